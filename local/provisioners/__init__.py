"""One provisioner module per AWS service: each maps its CloudFormation types to the functions that
create them in moto (`PROVISIONERS`), called with the `local.provision.Provisioner`."""
