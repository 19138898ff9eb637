"""Every value the clinical core can produce fits the columns that store it (PostgreSQL enforces
varchar lengths; SQLite does not, so this is checked here rather than discovered in production)."""

from kairos.clinical.instruments import all_instruments
from kairos.measures.models import QuestionnaireResponse, Score


def test_every_severity_label_and_instrument_id_fits_its_column():
    severity_max = Score._meta.get_field("severity").max_length
    id_max = QuestionnaireResponse._meta.get_field("instrument_id").max_length
    instruments = list(all_instruments())
    labels = [
        band.label
        for instrument in instruments
        for band in (getattr(instrument, "bands", ()) or getattr(instrument, "severity_bands", ()))
    ]
    assert labels, "no severity bands found: the attribute name changed?"
    assert [label for label in labels if len(label) > severity_max] == []
    assert [i.id for i in instruments if len(i.id) > id_max] == []
