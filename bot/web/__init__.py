"""The web side of the bot: the sandbox chat, the console, 民情码 pages, the JSON API, health."""
