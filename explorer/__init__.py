"""Variable Star Explorer app: Panel views over one per-session :class:`ExplorerState`.

The science lives in :mod:`pipeline`; this package only composes it into linked views, so every
number on screen is one a notebook or the CLI would give for the same settings.
"""
