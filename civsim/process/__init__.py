"""Locality-level processes over a leading batch axis, shared by both engines.

The Mesa engine calls these with a batch of one (arrays gathered from its
agents); the batch core calls them with B runs. Each function composes rules
from :mod:`civsim.rules`; none draws random numbers.

Shapes: B runs, M neighbourhoods, G groups, K domains, S network slots,
A agencies. ``P`` maps every parameter name to a (B,) array (see
:func:`stack_params`).

One module per concept: :mod:`~civsim.process.common`,
:mod:`~civsim.process.council`, :mod:`~civsim.process.cells`,
:mod:`~civsim.process.citizens`, :mod:`~civsim.process.choices`; every
function is importable from here.
"""

from civsim.process.cells import (  # noqa: F401
    aid_rates,
    cell_context,
    coproduction_inputs,
    delivery_inputs,
    hood_links,
    network_action_inputs,
    openness_by_domain,
    shock_hits,
    update_outcomes,
)
from civsim.process.choices import (  # noqa: F401
    ally_targets,
    hood_slots,
    pledge_rows,
)
from civsim.process.citizens import (  # noqa: F401
    cell_index,
    citizen_aggregates,
    coordination_room,
    hood_focus,
    member_trust_mean,
    network_action,
    network_grants,
    partner_remit,
)
from civsim.process.common import Params, col, path_factor, stack_params  # noqa: F401
from civsim.process.council import (  # noqa: F401
    alliance_summary,
    allied_by_domain,
    cut_budget,
    need_by_domain,
    revise_agenda,
    service_share,
    voice_by_domain,
    voice_cells,
    yearly_budget,
)
