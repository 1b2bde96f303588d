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
from analysis import display, notebook, retention
from analysis.charts import retention as charts
from analysis.glossary import label
from analysis.narrative import retention as narrative

ctx = notebook.start("incentive_retention", globals())

# %%
data = retention.load(ctx.con, ctx.params)

# %%
display.paragraph(retention.notes_text(data, lang=ctx.lang))

# %% [markdown]
# ## 1. Headcount and attrition

# %%
display.heading(label("headcount_attrition", ctx.lang))

# %%
head = retention.headline(data)

# %%
overall = retention.km_overall(data)

# %%
display.kpis(retention.kpis(head, overall, ctx.lang))

# %%
tables = retention.attrition_tables(data)

# %%
display.table(tables.by_region, retention.TABLE_FORMATS, ctx.lang)

# %%
display.table(tables.by_year, retention.TABLE_FORMATS, ctx.lang)

# %%
display.table(tables.by_reason, retention.TABLE_FORMATS, ctx.lang)

# %%
display.table(tables.by_cohort, retention.TABLE_FORMATS, ctx.lang, caption=label("first_year_attrition", ctx.lang))

# %% [markdown]
# ## 2. Retention curves

# %%
display.heading(label("retention_curves", ctx.lang))

# %%
display.figure(charts.km_curves(overall, ctx.lang))

# %%
display.table(overall.medians, retention.TABLE_FORMATS, ctx.lang)

# %%
curves_1 = retention.km_by_feature(data, retention.curve_feature(data, 0))

# %%
curves_2 = retention.km_by_feature(data, retention.curve_feature(data, 1))

# %%
curves_3 = retention.km_by_feature(data, retention.curve_feature(data, 2))

# %%
effects = retention.adjusted_effects(data)

# %%
family = retention.family_of_tests(effects, [curves_1, curves_2, curves_3], data.features)

# %%
narrative.show_curves(ctx, curves_1, family)

# %%
narrative.show_curves(ctx, curves_2, family)

# %%
narrative.show_curves(ctx, curves_3, family)

# %% [markdown]
# ## 3. Correlations

# %%
display.heading(label("correlations", ctx.lang))

# %%
corr = retention.correlations(data)

# %%
narrative.show_correlations(ctx, corr, data)

# %% [markdown]
# ## 4. Adjusted effects

# %%
display.heading(label("adjusted_effects", ctx.lang))

# %%
narrative.show_effects(ctx, effects, data, family)

# %% [markdown]
# ## 5. The 70/30 question and payout timing

# %%
display.heading(label("split_question", ctx.lang))

# %%
split = retention.dose_response(data, "team_bonus_share")

# %%
narrative.show_dose_response(ctx, split, "team_bonus_share")

# %%
delay = retention.dose_response(data, "payout_delay_days")

# %%
narrative.show_dose_response(ctx, delay, "payout_delay_days")

# %% [markdown]
# ## 6. Written summary

# %%
display.heading(label("written_summary", ctx.lang))

# %%
display.paragraph(narrative.summary(head, effects, corr, ctx.lang, features=data.features, controls=data.controls, source=data.source, family=family))

# %%
ctx.rec.update(retention.metrics(data, head, overall, corr, effects, retention.suppressed_total(tables, curves_1, curves_2, curves_3, split, delay), curves=[curves_1, curves_2, curves_3], family=family))

# %%
ctx.finish()
