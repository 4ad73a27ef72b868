"""The proposal as a PDF the person takes home (fpdf2, pure Python; DejaVu Sans from
matplotlib's own data, so every French character prints)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fpdf import FPDF

from insertion_match.service.web.labels import date_fr
from insertion_match.service.web.sheets import ActionSheet


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def proposal_pdf(sheets: list[ActionSheet], day: date, person_id: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Proposition d'actions d'insertion")
    pdf.set_lang("fr")
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: int = 11, bold: bool = False, gap: float = 1.5) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line("Ce que nous vous proposons", 18, bold=True, gap=2)
    line(f"Le {date_fr(day)}. Référence de la proposition : {person_id}.", 10, gap=4)
    line("Votre référent ou votre référente vous propose les actions ci-dessous. Vous pouvez "
         "en parler avec lui ou avec elle avant de décider.", 11, gap=4)
    for number, sheet in enumerate(sheets, start=1):
        line(f"{number}. {sheet.title}", 14, bold=True)
        if sheet.operator:
            line(f"Organisme : {sheet.operator}")
        line(f"De quoi s'agit-il ? {sheet.description}")
        if sheet.itinerant:
            where = "L'action vient à vous (itinérante ou à distance)."
        elif sheet.by_dossier:
            where = "Sans déplacement : votre référent fait la demande par dossier."
        else:
            where = "; ".join(f"{p.address + ', ' if p.address else ''}{p.commune}"
                              + (" (lieu à préciser)" if p.unspecified else "")
                              for p in sheet.places)
        line(f"Où ? {where}")
        if sheet.duration or sheet.weekly_hours:
            line("Quand ? " + " ; ".join(x for x in (sheet.duration, sheet.weekly_hours) if x))
        line("Qui appeler ? " + (f"{sheet.operator or 'L’organisme'} : {sheet.contact}"
                                 if sheet.contact else "votre référent ou votre référente"))
        line(f"Combien ça coûte ? {sheet.cost}")
        if sheet.prescription_required:
            line("Votre référent ou votre référente doit d'abord vous inscrire (prescription).")
        line("À apporter : " + ", ".join(sheet.what_to_bring) + ".", gap=5)
    return bytes(pdf.output())
