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
# # Agent retention (新人留存)
#
# How many new agents stay 3, 6 and 13 months, by hiring cohort, and which incentives go with
# agents staying. Every figure comes from `analysis.agency.retention`; this notebook only calls
# and displays.

# %% tags=["parameters"]
store = None
lang = "zh"
as_of = ""
cohort_start = ""
cohort = "quarter"
curve_cohort = "year"
features = ["leads_given", "allowance", "training_hours", "activities_attended", "recruiter_tenure", "recruiter_exited"]
controls = ["early_fyc", "direct_hire", "team"]
min_group_size = 5

# %%
from analysis import notebook
from analysis.agency import retention

ctx = notebook.start("agent_retention", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("cohort_retention")

# %%
ctx.section("cohort_curves")

# %%
ctx.section("incentives")

# %%
ctx.section("correlations")

# %%
ctx.section("model_checks")

# %%
ctx.section("written_summary")

# %%
ctx.finish()
