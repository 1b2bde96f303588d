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
# # Incentives vs retention (激励与队伍稳定)
#
# Which incentives go together with account managers staying, and how sure we can be.
# Every figure comes from `analysis.retention`; this notebook only calls and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
source = "store"
snapshot = ""
as_of = ""
cohort_start = ""
horizon_months = 12
tenure_unit = "years"
features = ["team_bonus_share", "payout_delay_days", "promoted_last_12m", "training_hours", "bonus_per_month"]
controls = ["attainment", "region", "role"]
min_group_size = 5

# %%
from analysis import notebook, retention
from analysis.narrative import retention as narrative

ctx = notebook.start("incentive_retention", globals())
ctx.present.texts = narrative.TEXTS

# %%
scope = retention.prepare(ctx.con, ctx.params)

# %%
headcount = ctx.present.show(retention.headcount_attrition(scope))

# %%
curves = ctx.present.show(retention.retention_curves(scope))

# %%
curves_1 = ctx.present.show(retention.feature_curves(scope, 0))

# %%
curves_2 = ctx.present.show(retention.feature_curves(scope, 1))

# %%
curves_3 = ctx.present.show(retention.feature_curves(scope, 2))

# %%
corr = ctx.present.show(retention.correlation_section(scope))

# %%
effects = ctx.present.show(retention.effects_section(scope))

# %%
checks = ctx.present.show(retention.model_checks(scope))

# %%
split = ctx.present.show(retention.dose_section(scope, "team_bonus_share"))

# %%
delay = ctx.present.show(retention.dose_section(scope, "payout_delay_days"))

# %%
summary = ctx.present.show(retention.written_summary(scope))

# %%
ctx.finish(**ctx.present.metrics())
