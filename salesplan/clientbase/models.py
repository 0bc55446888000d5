"""Client base: the models of salesplan.clientbase."""
