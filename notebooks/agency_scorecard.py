# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (sales-analysis)
#     language: python
#     name: sales-analysis
# ---

# %% [markdown]
# # Agency scorecard (营业部考核)
#
# Agents (or teams) scored by the branch's assessment scheme (营业部考核方案: FYC attainment, 活动率,
# 增员, 13-month persistency), the same rules, ranks and rank changes as the rep scorecard. Every
# figure comes from `analysis.agency.scorecard` (definitions in docs/AGENCY.md); this notebook only
# calls and displays. It holds no pay.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "last"
branch = None
scheme = "agency"
level = "agent"

# %%
from analysis import notebook

ctx = notebook.start("agency_scorecard", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headline")

# %%
ctx.section("scores")

# %%
ctx.section("indicators")

# %%
ctx.finish()
