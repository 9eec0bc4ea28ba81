"""Reports for officials: the post-inspection record of a case and periodic reports.

``data`` gathers the values from the stores, ``tables`` lays them out once,
``charts`` draws the evidence pictures (matplotlib), ``pdf`` (WeasyPrint) and
``xlsx`` (openpyxl) write them; ``exports`` writes cases, surveys and field-kit
tracks in the formats other tools read. Vietnamese first, English with ``lang="en"``.
"""
