"""Small browser-side helpers every page mounts (see ``vue/*.vue``).

:class:`PageSetup` sets what Solara's page template lacks: ``lang`` on
``<html>``, a viewport that allows zooming, names for Solara's icon-only
buttons, and a closed parameter drawer on phones. :class:`DrawerClose` is the
"Close parameters" button shown inside the drawer on narrow screens.
"""

from __future__ import annotations

import os

import ipyvuetify as v
import traitlets

_VUE = os.path.join(os.path.dirname(__file__), "vue")


class PageSetup(v.VuetifyTemplate):
    """Sets ``<html lang>``, the zoomable viewport and button names once the page is in the browser."""

    template_file = os.path.join(_VUE, "page_setup.vue")
    lang = traitlets.Unicode("en").tag(sync=True)


class DrawerClose(v.VuetifyTemplate):
    """A "Close parameters" button for the drawer (visible on narrow screens only, by CSS)."""

    template_file = os.path.join(_VUE, "drawer_close.vue")
