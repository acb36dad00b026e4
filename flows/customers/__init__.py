"""The customer sync's pieces (flow 1; ``flows/customer_sync.py`` wires them):

- ``config``: survivorship (who owns which field) and fan-out rules, as data
  (``survivorship.yaml``);
- ``sources``: each system's customer records -> canonical customers;
- ``golden``: identity resolution, source views, the golden record and its field sources;
- ``processor``: inbox messages -> golden customers -> deliveries;
- ``targets``: golden customers -> the CRM and the ERP.
"""
