"""The parameter definitions behind :mod:`civsim.params` (import from there).

- :mod:`.param`: :class:`~civsim.parameters.param.Param`, ``ParamError`` and the strands;
- one module per group of parameters, in display order: :mod:`.locality`,
  :mod:`.austerity`, :mod:`.outcomes` (strand 1), :mod:`.whole_systems` (2),
  :mod:`.coproduction` (3), :mod:`.engagement`, :mod:`.inclusion` (5),
  :mod:`.resilience` (4), :mod:`.cooperation` (6);
- :mod:`.schema`: :data:`SCHEMA` in that order, ``defaults``, ``check``, ``resolve``;
- :mod:`.tables`: the schema as a Markdown table and as records.
"""
