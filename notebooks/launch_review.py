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
from analysis import notebook

ctx = notebook.start("launch_review", globals())

# %%
scope = ctx.prepare()

# %%
ctx.section("headline")

# %%
ctx.section("sales_trend")

# %%
ctx.section("retailers")

# %%
ctx.section("retailer_segments")

# %%
ctx.section("opinions")

# %%
ctx.section("cannibalization")

# %%
ctx.section("benchmarks")

# %%
ctx.finish()
