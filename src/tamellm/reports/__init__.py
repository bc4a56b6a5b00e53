"""HTML run reports with plots (learning curves, confusion matrix, HPO history) and model cards."""

from tamellm.reports.html import render_report, write_report

__all__ = ["render_report", "write_report"]
