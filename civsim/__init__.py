"""civsim: an agent-based simulation of civic partnership.

Citizens, citizen networks, agencies and a council work toward the outcomes a
locality values. Two engines run the same rules (:mod:`civsim.rules`): a Mesa
model (:mod:`civsim.model`) and a vectorised batch core (:mod:`civsim.batch`).
"""

__version__ = "0.1.0"
