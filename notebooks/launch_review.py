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
# # New brand one-month review (新品牌上市一个月分析)
#
# The written analysis after a new brand has sold for one month: sales trend, retailers'
# ordering, consumers' opinions, cannibalisation of the same price class and a comparison with
# earlier launches. Every figure comes from `analysis.launch`; this notebook only calls and
# displays (`analysis.narrative.launch` chooses the sentences, `ctx.present` renders each section).

# %% tags=["parameters"]
store = None
lang = "zh"
sku = ""
brand = ""
launch_date = ""
window_days = 30
benchmarks = "auto"
compare_class = ""
min_group_size = 5

# %%
from analysis import display, launch, notebook
from analysis.narrative import launch as narrative

ctx = notebook.start("launch_review", globals())
ctx.present.texts = narrative.TEXTS

# %%
scope = launch.prepare(ctx.con, ctx.params)

# %%
head = ctx.present.show(launch.headline(scope))

# %%
trend = ctx.present.show(launch.sales_trend(scope))

# %%
ordering = ctx.present.show(launch.retailers(scope))

# %%
segments = ctx.present.show(launch.retailer_segments(scope))

# %%
opinions = ctx.present.show(launch.opinions(scope))

# %%
cannibalization = ctx.present.show(launch.cannibalization(scope))

# %%
compared = ctx.present.show(launch.benchmarks(scope))

# %%
display.note(narrative.method_text(scope.spec.window_days, ctx.lang))

# %%
ctx.finish(**ctx.present.metrics())
