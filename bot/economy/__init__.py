"""The economy's rules: prices, the diamond share, periods and errors.

Nothing here imports discord, so every rule can be tested on its own.
"""
