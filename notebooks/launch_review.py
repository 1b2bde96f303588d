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
# displays (`analysis.narrative.launch` renders each section, escaping every data string).

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
from analysis import launch, notebook
from analysis.narrative import launch as narrative

ctx = notebook.start("launch_review", globals())

# %%
review = launch.review(ctx.con, ctx.params)

# %%
narrative.show_title(ctx, review)

# %% [markdown]
# ## 1. Headline: volume, ordering customers, distribution, repeat, and the written analysis

# %%
narrative.show_headline(ctx, review)

# %% [markdown]
# ## 2. Sales trend

# %%
narrative.show_trend(ctx, review)

# %% [markdown]
# ## 3. Retailers' ordering: trial and repeat, sell-through, segments

# %%
narrative.show_retailers(ctx, review)

# %% [markdown]
# ## 4. Consumers' opinions

# %%
narrative.show_opinions(ctx, review)

# %% [markdown]
# ## 5. Cannibalisation of the same price class (difference-in-differences)

# %%
narrative.show_cannibalization(ctx, review)

# %% [markdown]
# ## 6. Benchmarks: earlier launches aligned on days since launch

# %%
narrative.show_benchmarks(ctx, review)

# %%
narrative.show_method(ctx, review)

# %%
ctx.finish(**launch.metrics(review))
