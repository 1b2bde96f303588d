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
from analysis import notebook

ctx = notebook.start("incentive_retention", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headcount_attrition")

# %%
ctx.section("retention_curves")

# %%
ctx.section("feature_curves_1")

# %%
ctx.section("feature_curves_2")

# %%
ctx.section("feature_curves_3")

# %%
ctx.section("correlation_section")

# %%
ctx.section("effects_section")

# %%
ctx.section("model_checks")

# %%
ctx.section("dose_team_bonus_share")

# %%
ctx.section("dose_payout_delay_days")

# %%
ctx.section("written_summary")

# %%
ctx.finish()
