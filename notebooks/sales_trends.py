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
from analysis import notebook

ctx = notebook.start("sales_trends", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headline")

# %%
ctx.section("attainment_by_level")

# %%
ctx.section("underperformers")

# %%
ctx.section("trend")

# %%
ctx.section("spring_festival")

# %%
ctx.section("mix")

# %%
ctx.section("contribution")

# %%
ctx.section("customers")

# %%
ctx.section("process_indicators")

# %%
ctx.section("forecast")

# %%
ctx.finish()
