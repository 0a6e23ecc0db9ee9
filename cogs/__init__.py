"""One cog per feature. Cogs parse and check input, call the economy service and render."""
