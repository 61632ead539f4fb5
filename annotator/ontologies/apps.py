from django.apps import AppConfig


class OntologiesConfig(AppConfig):
    name = "annotator.ontologies"
    label = "ontologies"
