"""The kernel: messages, clock, config types, grid, quiet hours and domain enums.

It imports nothing else of the project; intents, storage, handlers and the shell stand on it.
"""
