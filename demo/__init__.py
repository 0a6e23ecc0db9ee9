"""The offline playground behind `make demo`: the real bot in SimCord, shown as a chat log.

Run it with `python -m demo [--db PATH]`. Nothing here talks to Discord.
"""
