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
# # Target plan (任务分解)
#
# The company's monthly target split to regions, account managers and (optionally) brands or price
# classes, every level summing exactly to the total; published as the 任务分解表 (targets CSV and XLSX
# beside the report, ready for `sales-analysis ingest targets`). Every figure comes from
# `analysis.target_plan`; this notebook only calls and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "next"
measure = "amount"
rounding = None
total = None
method = "blend"
blend_weights = {"last_12": 0.5, "same_month": 0.5}
levels = ["region", "rep"]
growth_cap = 0.3
ramp_share = 0.5
overrides = {}

# %%
from analysis import notebook

ctx = notebook.start("target_plan", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("overview")

# %%
ctx.section("regions")

# %%
ctx.section("reps")

# %%
ctx.section("products")

# %%
ctx.section("backtest")

# %%
ctx.finish()
