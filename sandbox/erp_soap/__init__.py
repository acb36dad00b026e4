"""A protocol-faithful stand-in for a Microsoft Dynamics NAV / Business Central ERP.

It serves SOAP page web services (``/WS/<Company>/Page/<Page>``) with the published WSDL shape,
so the connector is tested against the same contract a real NAV server offers. It is an outside
system: it imports nothing of the product.
"""
