"""notification_templates.render: a template is a module of that name; anything else is UnknownTemplate."""

from __future__ import annotations

import pytest

from isp_billing.notifications import templates as notification_templates
from isp_billing.notifications.templates import UnknownTemplate


@pytest.mark.parametrize("name", ["no_such_template", "../etc", "Invoice", "x"])
def test_a_name_that_is_no_template_module_is_refused(name):
    # When a name that names no template module (or is not a template name at all) is rendered
    # Then UnknownTemplate, never an import of something else
    with pytest.raises(UnknownTemplate):
        notification_templates.render(name, {})
