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
# # Agency target plan (营业部任务分解)
#
# Next month's FYC and FYP targets of the branch split to teams and agents from their history, with
# the target plan's arithmetic (`analysis.allocation`): shares by method, new agents ramped, every
# level rounded to sum exactly to the one above. Every figure comes from `analysis.agency.plan`
# (definitions in docs/AGENCY.md); this notebook only calls and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "next"
branch = None
method = "blend"
total_fyc = None
total_fyp = None
growth = 0.0
unit = 100.0
new_agent_months = 3
ramp_share = 0.5

# %%
from analysis import notebook

ctx = notebook.start("agency_target_plan", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("overview")

# %%
ctx.section("teams")

# %%
ctx.section("agents")

# %%
ctx.finish()
