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
from analysis import notebook, target_plan
from analysis.narrative import target_plan as narrative

ctx = notebook.start("target_plan", globals())
ctx.present.texts = narrative.TEXTS

# %%
scope = target_plan.prepare(ctx.con, ctx.params)

# %%
basis = ctx.present.show(target_plan.overview(scope))

# %%
by_region = ctx.present.show(target_plan.regions(scope))

# %%
by_rep = ctx.present.show(target_plan.reps(scope))

# %%
by_product = ctx.present.show(target_plan.products(scope))

# %%
fit = ctx.present.show(target_plan.backtest(scope))

# %%
files = target_plan.write_targets(scope, ctx.output_path)

# %%
ctx.finish(**ctx.present.metrics(), targets_file=files["csv"], targets_workbook=files["xlsx"],
           data_window=target_plan.data_window(scope))
