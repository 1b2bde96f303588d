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
# # Agency monthly report (营业部月报)
#
# A life-insurance branch's month: manpower (期初/期末/平均人力, 增员, 脱落), active and qualified
# agents (活动率, 实动率), FYP, FYC, cases and their ratios against last month and last year, premium
# persistency, attainment against target and time elapsed, who is furthest off plan, and what the
# recruiting tree produces. Every figure comes from `analysis.agency` (definitions in docs/AGENCY.md);
# this notebook only calls and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "last"
branch = None
active_threshold = 5000.0
grace = False
lookback_months = 13
top_n = 10

# %%
from analysis import notebook

ctx = notebook.start("agency_monthly", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headline")

# %%
ctx.section("manpower")

# %%
ctx.section("activity")

# %%
ctx.section("production")

# %%
ctx.section("persistency")

# %%
ctx.section("attainment")

# %%
ctx.section("off_plan")

# %%
ctx.section("recruiting")

# %%
ctx.section("inputs")

# %%
ctx.finish()
