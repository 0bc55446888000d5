"""CRM webhooks → lead changes → the normalized lead frame. No writes: the service that
processes a stored webhook is `funnel.services.webhooks`."""
