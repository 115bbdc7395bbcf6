"""HTTP handlers of the extension; each module exports its routes."""
