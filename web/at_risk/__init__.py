"""At-risk levels (issue 24): the list of trainees at watch or worse, its exports, and the cohort forecast chart.
Views translate the request, call core.at_risk, and answer JSON shaped by .schemas (or render a screen)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from core.access.scoping import visible_cohort
from core.at_risk import forecast, reads
from core.at_risk.commands import AtRiskQuery
from core.finance.reads import to_xlsx
from core.portals.chart import RatePoint, rate_chart

from ..auth import requires, user
from ..contract import Page, contract, responds
from ..downloads import attachment, stream_csv
from ..extensions import db
from ..pagination import page_count
from .schemas import AtRiskItem, export_rows, present_standing

bp = Blueprint("at_risk", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(query: AtRiskQuery) -> dict[str, Any]:
    items, total = reads.at_risk_page(db.session, user(), query)
    return {"items": [present_standing(s) for s in items], "page": query.page, "per_page": query.per_page,
            "total": total, "pages": page_count(total, query.per_page)}


@bp.get("/api/institution/at-risk")
@requires("at_risk.view")
@contract(resp=responds(HTTP_200=Page[AtRiskItem]))
def api_at_risk(query: AtRiskQuery) -> Any:
    """Trainees at watch or worse (or at `level`) in cohorts you may see, smallest margin first. Filters:
    cohort, qualification, organization, facilitator, level; an unknown id is a 422 naming the filter."""
    return _page(query)


@bp.get("/api/institution/at-risk/export.csv")
@requires("at_risk.view")
@contract(resp=responds(HTTP_200=None))
def api_at_risk_csv(query: AtRiskQuery) -> Any:
    """The list's rows (same filters, every page) as CSV; text cells cannot run as formulas."""
    return stream_csv(export_rows(reads.at_risk_all(db.session, user(), query)), "at-risk.csv")


@bp.get("/api/institution/at-risk/export.xlsx")
@requires("at_risk.view")
@contract(resp=responds(HTTP_200=None))
def api_at_risk_xlsx(query: AtRiskQuery) -> Any:
    """The list's rows (same filters, every page) as an XLSX workbook; text cells cannot run as formulas."""
    rows = export_rows(reads.at_risk_all(db.session, user(), query))
    return Response(to_xlsx(rows, title="At risk"), mimetype=XLSX,
                    headers={"Content-Disposition": attachment("at-risk.xlsx")})


def _choices() -> dict[str, list[Any]]:
    """The filters' options: what the caller's cohorts use (bounded)."""
    return reads.filter_choices(db.session, user())


@bp.get("/institution/at-risk")
@requires("at_risk.view")
def at_risk_screen() -> Any:
    query = AtRiskQuery.model_validate({k: v for k, v in request.args.items() if v})
    return render_template("at_risk/list.html", page=_page(query), query=query, choices=_choices(),
                           args={k: v for k, v in request.args.items() if v and k != "page"})


@bp.get("/institution/cohorts/<int:cohort_id>/forecast.svg")
@requires("cohorts.view")
def cohort_forecast_svg(cohort_id: int) -> Any:
    """The cohort's attendance rate by week (cumulative), with its required rate as a dashed line: an SVG drawn
    on the server, so the same picture goes into PDFs."""
    cohort = visible_cohort(db.session, user(), cohort_id, "cohorts.view")
    required = forecast.required_rate(db.session, cohort)
    shown = f"{required:g}"
    points = [RatePoint(w.starts_on, w.cumulative_rate,
                        _("Week of %(day)s: %(rate)s%% this week, %(total)s%% so far", day=w.starts_on.isoformat(),
                          rate=round(100 * w.attended / w.counted) if w.counted else "—",
                          total=round(100 * w.cumulative_rate)))
              for w in forecast.weekly(db.session, cohort)]
    svg = rate_chart(points, _("Attendance rate by week in %(cohort)s", cohort=cohort.name),
                     _("No attendance marked yet."), target=required / 100,
                     target_label=_("Required %(rate)s%%", rate=shown))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})
