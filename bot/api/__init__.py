"""The Open311 GeoReport v2 server: ``server`` (aiohttp handlers: parse, one use-case, render) and ``render``
(XML and JSON). The use-cases are in ``bot.workflow.open311``; the config is ``[open311]``."""
