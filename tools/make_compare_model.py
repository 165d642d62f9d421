"""Write models/compare_fusion_methods.model3, the shipped Processing model "Compare fusion methods".

The chain every analyst who compares methods would otherwise build by hand: simulate the
inputs from a reference scene (hyperfuse:simulate_degradation), fuse them with every
network (MODEL = auto) and the classical methods, and rank the results with
hyperfuse:quality_assessment, whose HTML report and JSON are the model's outputs. The
.model3 file is the source users open in the graphical modeler; this script rebuilds it
when an algorithm it uses changes (`make compare-model`).

    python tools/make_compare_model.py [--output models/compare_fusion_methods.model3]
"""
from __future__ import annotations

import argparse
import os
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(REPOSITORY, "models", "compare_fusion_methods.model3")
NAME, GROUP = "Compare fusion methods", "Simulation and assessment"
# The fusions the model compares, by algorithm id: every network and the classical methods that run in
# seconds on a scene a few hundred pixels across (HySure, minutes there, is left for a run of its own).
FUSIONS = ("fuse_mlpln", "fuse_ssjcn", "fuse_mhfnet", "fuse_msssfnet", "fuse_deepsen3", "fuse_gsa", "fuse_glp",
           "fuse_cnmf", "fuse_bicubic")

def build_model():
    """The model, built through the Processing API so that every child and parameter is checked."""
    from qgis.core import (QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource as Source, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingParameterEnum, QgsProcessingParameterNumber,
                           QgsProcessingParameterRasterLayer)

    from hyperfuse.algorithms.compare_model import CompareFusionMethodsModel
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm(NAME, GROUP)
    simulate = registered_algorithm("hyperfuse:simulate_degradation")
    srf_options = simulate.parameterDefinition("SRF").options()
    for parameter in (QgsProcessingParameterRasterLayer("REFERENCE", "Reference HR-HSI (a hyperspectral scene)"),
                      QgsProcessingParameterNumber("RATIO", "Resolution ratio", QgsProcessingParameterNumber.Integer,
                                                   3, minValue=2),
                      QgsProcessingParameterEnum("SRF", "MS spectral responses", options=srf_options,
                                                 defaultValue=0)):
        parameter.setHelp(CompareFusionMethodsModel.PARAMETER_HELP[parameter.name()])
        component = QgsProcessingModelParameter(parameter.name())
        component.setPosition(QPointF(120, 80 + 90 * len(model.parameterComponents())))
        model.addModelParameter(parameter, component)

    def child(algorithm_id, child_id, sources, position):
        # Laid out left to right as the data flows, so that the modeler shows the chain readably.
        step = QgsProcessingModelChildAlgorithm(f"hyperfuse:{algorithm_id}")
        step.setChildId(child_id)
        step.setPosition(QPointF(*position))
        step.setDescription(registered_algorithm(f"hyperfuse:{algorithm_id}").displayName())
        for name, source in sources.items():
            step.addParameterSources(name, source if isinstance(source, list) else [source])
        return step

    model.addChildAlgorithm(child("simulate_degradation", "simulate", {
        "INPUT": Source.fromModelParameter("REFERENCE"), "RATIO": Source.fromModelParameter("RATIO"),
        "SRF": Source.fromModelParameter("SRF")}, (420, 170)))
    simulated = {"LR_HSI": Source.fromChildOutput("simulate", "OUTPUT_LR_HSI"),
                 "HR_MSI": Source.fromChildOutput("simulate", "OUTPUT_HR_MSI")}
    for row, algorithm_id in enumerate(FUSIONS):
        model.addChildAlgorithm(child(algorithm_id, algorithm_id, dict(simulated), (760, 60 + 70 * row)))
    assess = child("quality_assessment", "assess", {
        "REFERENCE": Source.fromChildOutput("simulate", "OUTPUT_REFERENCE"),
        "FUSED": [Source.fromChildOutput(algorithm_id, "OUTPUT") for algorithm_id in FUSIONS],
        "LR_HSI": simulated["LR_HSI"], "HR_MSI": simulated["HR_MSI"], "RATIO": Source.fromModelParameter("RATIO")},
        (1100, 340))
    outputs = {}
    for name, child_output, description in (("REPORT", "OUTPUT_HTML", "Quality report (HTML)"),
                                            ("METRICS", "OUTPUT_JSON", "Metrics and ranking (JSON)")):
        output = QgsProcessingModelOutput(name, description)
        output.setDescription(description)
        output.setChildId("assess")
        output.setChildOutputName(child_output)
        output.setPosition(QPointF(1350, 300 + 80 * len(outputs)))
        outputs[name] = output
    assess.setModelOutputs(outputs)
    model.addChildAlgorithm(assess)
    model.updateDestinationParameters()
    return model


def registered_algorithm(algorithm_id: str):
    """The algorithm the Processing registry holds under ``algorithm_id``; exits when the plugin is not loaded."""
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    if algorithm is None:
        sys.exit(f"{algorithm_id} is not registered: run this script with the HyperFuse plugin on QGIS's path.")
    return algorithm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args()
    from qgis.core import QgsApplication

    application = QgsApplication([], False)
    application.initQgis()
    from hyperfuse.algorithms.i18n import remove_translator
    from hyperfuse.plugin import HyperFusePlugin

    plugin = HyperFusePlugin()
    # The file holds English labels, which the model shows translated (algorithms/compare_model.py), whatever
    # language this machine runs QGIS in.
    remove_translator(plugin.translator)
    plugin.initProcessing()
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    if not build_model().toFile(args.output):
        sys.exit(f"Could not write {args.output}.")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
