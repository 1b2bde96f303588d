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
from analysis import notebook, scorecard
from analysis.narrative import scorecard as narrative

ctx = notebook.start("rep_scorecard", globals())
ctx.present.texts = narrative.TEXTS

# %%
scope = scorecard.prepare(ctx.con, ctx.params)

# %%
headline = ctx.present.show(scorecard.headline(scope))

# %%
scores = ctx.present.show(scorecard.scores(scope))

# %%
indicators = ctx.present.show(scorecard.indicators(scope))

# %%
rank_intervals = ctx.present.show(scorecard.rank_intervals(scope))

# %%
territory = ctx.present.show(scorecard.territory(scope))

# %%
underperformers = ctx.present.show(scorecard.underperformers(scope))

# %%
adjustments = ctx.present.show(scorecard.adjustments(scope))

# %%
narrative.show_payout(ctx.present, scorecard.payout(scope))

# %%
ctx.finish(data_window=scorecard.data_window(scope), **ctx.present.metrics())
