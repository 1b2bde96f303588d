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
# # Monthly sales trends (月度销售趋势)
#
# The monthly work summary: attainment against time elapsed, 同比/环比, items off plan, staff under
# target, trend, Spring Festival, price-class mix, contribution, customers, process indicators and a
# forecast. Every figure comes from `analysis.trends` and every sentence from the message catalogues
# (`analysis.narrative.trends` picks them); this notebook only calls and displays, one section a cell.

# %% tags=["parameters"]
store = None
lang = "zh"
month = "last"
lookback_months = 24
level = "region"
filters = {}
forecast_months = 3
underperform_threshold = 0.9
underperform_streak = 3
action_rows = 3
size_by = "size_class"

# %%
from analysis import notebook, trends
from analysis.narrative import trends as narrative

ctx = notebook.start("sales_trends", globals())
ctx.present.texts = narrative.TEXTS

# %%
scope = trends.prepare(ctx.con, ctx.params)

# %%
narrative.show_scope(ctx.present, scope)

# %%
headline = ctx.present.show(trends.headline(scope))

# %%
attainment = ctx.present.show(trends.attainment_by_level(scope))

# %%
underperformers = ctx.present.show(trends.underperformers(scope))

# %%
trend = ctx.present.show(trends.trend(scope))

# %%
spring_festival = ctx.present.show(trends.spring_festival(scope))

# %%
mix = ctx.present.show(trends.mix(scope))

# %%
contribution = ctx.present.show(trends.contribution(scope))

# %%
customers = ctx.present.show(trends.customers(scope))

# %%
process = ctx.present.show(trends.process_indicators(scope))

# %%
forecast = ctx.present.show(trends.forecast(scope))

# %%
ctx.finish(**trends.scope_metrics(scope), **ctx.present.metrics())
