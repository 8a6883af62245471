"""Page layouts: one module per page, each a function from data to components."""

# The page carries lang="en" (WCAG 3.1.1) and Dash's placeholders.
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
</head>
<body>
{%app_entry%}
<footer>
{%config%}
{%scripts%}
{%renderer%}
</footer>
</body>
</html>"""
