"""The agency profile: life-insurance agents (代理人), their policies and the branch's month.

- :mod:`analysis.agency.model` — the monthly figures of a branch, its teams and agents (人力, 增员,
  活动率, FYP, FYC, 件数, persistency, attainment) computed in the engine.
- :mod:`analysis.agency.demo` — the demo world (``sales-analysis demo --profile agency``).
- :mod:`analysis.agency.monthly` — the agency monthly report (营业部月报).

docs/AGENCY.md defines every figure.
"""
