"""The Spark engine's glue, all of it: the corpus job (`job`: extract per input, dedup, commit), dedup over
DataFrames (`dedup`) and the statistics pass (`stats`). The stages, dedup's rules and the statistics'
definitions are engine-free (contract/, filters/, dedup/, pipeline/stats/); these modules only schedule them.
"""
