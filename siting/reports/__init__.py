"""PDF comparisons of shortlisted sites: requests and production (services), the document, its SVG charts, pages."""
