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
# forecast. Every figure comes from `analysis.trends`; this notebook only calls and displays.

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

# %%
from analysis import display, notebook, trends
from analysis.glossary import label
from analysis.narrative import trends as narrative

ctx = notebook.start("sales_trends", globals())

# %%
display.heading(label("sales_trends", ctx.lang), 1)

# %%
scope = trends.prepare(ctx.con, ctx.params)

# %%
narrative.show_scope(ctx, scope)

# %% [markdown]
# ## 1. Headline

# %%
head = trends.headline(scope)

# %%
narrative.show_headline(ctx, head)

# %% [markdown]
# ## 2. Attainment at the chosen level

# %%
att = trends.attainment_by_level(scope)

# %%
narrative.show_attainment(ctx, att, head.time_elapsed)

# %% [markdown]
# ## 3. Staff below target several months running

# %%
under = trends.underperformers(scope)

# %%
narrative.show_underperformers(ctx, under)

# %% [markdown]
# ## 4. Trend: STL, seasonal Mann–Kendall (corrected for autocorrelation), seasonal Sen slope, anomalies

# %%
trend = trends.trend(scope)

# %%
narrative.show_trend(ctx, trend)

# %% [markdown]
# ## 5. Spring Festival

# %%
festival = trends.spring_festival(scope)

# %%
narrative.show_spring_festival(ctx, festival)

# %% [markdown]
# ## 6. Price-class mix and value per unit

# %%
mix = trends.mix(scope)

# %%
narrative.show_mix(ctx, mix)

# %% [markdown]
# ## 7. Contribution to the change vs last year

# %%
contribution = trends.contribution(scope)

# %%
narrative.show_contribution(ctx, contribution)

# %% [markdown]
# ## 8. Customers: Pareto/ABC and big customers

# %%
customers = trends.customers(scope)

# %%
narrative.show_customers(ctx, customers)

# %% [markdown]
# ## 9. Process indicators: guidance coverage and effective guidance

# %%
process = trends.process_indicators(scope)

# %%
narrative.show_process(ctx, process)

# %% [markdown]
# ## 10. Forecast

# %%
forecast = trends.forecast(scope)

# %%
narrative.show_forecast(ctx, forecast)

# %%
ctx.finish(**trends.collect_metrics(scope, head, under, mix, forecast, trend))
