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
# # Monthly rep scorecard (月度综合考核)
#
# Each account manager's score for the month by the department's published scheme (result and
# behaviour indicators, weights, rules, adjustments), ranks overall and in the region with their
# bootstrap intervals, the territory check, staff below target several months running and, in the
# manager version, the bonus payout. Every figure comes from `analysis.scorecard`; this notebook
# only calls and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "last"
scheme = "default"
adjustments = None
level = "region"
audience = "team"
underperform_threshold = 0.9
underperform_streak = 3
n_boot = 1000
interval_unit = "customer"

# %%
from analysis import notebook

ctx = notebook.start("rep_scorecard", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headline")

# %%
ctx.section("scores")

# %%
ctx.section("indicators")

# %%
ctx.section("rank_intervals")

# %%
ctx.section("territory")

# %%
ctx.section("underperformers")

# %%
ctx.section("adjustments")

# %%
ctx.section("payout")

# %%
ctx.finish()
