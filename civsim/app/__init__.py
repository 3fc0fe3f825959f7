"""The civsim web app (Solara): Explore, Compare and Workshop pages.

Start it with ``civsim app`` (or ``make app``); see :mod:`civsim.app.server`.
The pages live in :mod:`civsim.app.pages`. Every browser session builds its
own model inside its page components, so sessions never share state.
"""
