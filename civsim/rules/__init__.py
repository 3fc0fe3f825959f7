"""The model's mechanisms, written once, as pure functions (one module per concept).

Every rule here works on numpy scalars and on arrays alike (with any leading
batch axes), so the Mesa engine (one agent, scalars) and the batch core (many
runs, arrays) call the very same code. No rule draws random numbers: uniform
draws are passed in, in the fixed order given by :func:`draw_step`, which is
what lets both engines be docked exactly.

Notation: N citizens, M neighbourhoods, G groups (0 = majority), K outcome
domains, S network slots, A agencies. ``O[m, g, k]`` is the outcome state.
"""

from __future__ import annotations

from civsim.rules.agencies import (  # noqa: F401
    CONVENING_GAIN,
    COORDINATION_PROPENSITY,
    FOCUS_SHARE,
    OPENNESS_COST,
    affordable_ties,
    agency_effort,
    contracted_openness,
    coordination_link,
    domain_effort,
    focused_share,
    next_coordination,
    overstretch,
)
from civsim.rules.citizens import (  # noqa: F401
    IMPROVEMENT_GAIN,
    MAX_PRIORITY_FOCUS,
    MEMBER_PULL,
    OUTREACH_CONTACT,
    RESPONSIVENESS_GAIN,
    agenda_match,
    burnout_probability,
    contact_probability,
    effective_threshold,
    engagement_push,
    next_engaged,
    next_trust,
    priorities,
    tie_share,
    trust_target,
    value_profiles,
    valued_index,
)
from civsim.rules.council import (  # noqa: F401
    AGENDA_INERTIA,
    ALLIANCE_VOICE,
    INFLUENCE_THRESHOLD,
    OUTREACH_COST,
    TARGETING_COST,
    VOICE_COST,
    agenda_weights,
    budget_split,
    commissioning_shares,
    council_budget,
    departmental_view,
    lever_costs,
    normalise,
)
from civsim.rules.draws import (  # noqa: F401
    MONTHS_PER_YEAR,
    NEW_NETWORK_COHESION,
    Dims,
    draw_sizes,
    draw_step,
)
from civsim.rules.networks import (  # noqa: F401
    COHESION_RATE,
    FOUNDING_RATE,
    NETWORK_FOUND_SIZE,
    NETWORK_GRACE_MONTHS,
    NETWORK_SPEND_RATE,
    SCALING_RATE,
    SCALING_TRANSFER,
    agency_network_affinity,
    campaign_focus,
    claim_slots,
    founds_network,
    join_choice,
    keeps_membership,
    network_affinity,
    network_cohesion,
    network_dissolves,
    network_resources,
    network_wants_to_scale,
    next_alliance,
    pooled_multiplier,
    scaling_gift,
)
from civsim.rules.outcomes import (  # noqa: F401
    AID_MONTHS,
    AID_STRAIN,
    ALLY_AID,
    TREND_MONTHS,
    after_shock,
    aid_rate,
    aid_strain,
    allocation,
    apply_shock,
    lent_aid,
    next_outcomes,
    next_trend,
    pressured_baseline,
)
