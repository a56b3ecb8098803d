"""Document-type classification with LOINC-coded types and calibrated confidence.

    types.py / types.toml   the type list a site can edit: load_types(path) -> TypeList
    model.py                load_classifier(settings) -> Classifier; .classify(text) -> Classification
    estimator.py            build_model(**params) -> sklearn Pipeline (features + calibrated LinearSVC)
    features.py             fast word / character n-gram TF-IDF
    training.py             augmentation, fitting, per-type thresholds, held-out metrics
    corpus.py               training corpora (MTSamples + generated, folders, CSV, reviews), fixed split
    noise.py                OCR-like noise for training
    modelfile.py            the model file: checked header + pickled pipeline, written atomically
"""
