<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR" sourcelanguage="en">
<context>
    <name>HyperFuse</name>
    <message>
        <location filename="../algorithms/assess.py" line="38"/>
        <source>Quality assessment</source>
        <translation>Évaluation de la qualité</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="150"/>
        <source>Reference HR-HSI</source>
        <translation>HR-HSI de référence</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="104"/>
        <source>Fused HR-HSI layers</source>
        <translation>Couches HR-HSI fusionnées</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="106"/>
        <source>LR-HSI used by the fusion (for QNR)</source>
        <translation>LR-HSI utilisée par la fusion (pour le QNR)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="108"/>
        <source>HR-MSI used by the fusion (for QNR)</source>
        <translation>HR-MSI utilisée par la fusion (pour le QNR)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="110"/>
        <source>Resolution ratio (0 = infer)</source>
        <translation>Rapport de résolution (0 = déduit des entrées)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="112"/>
        <source>Border to leave out (pixels)</source>
        <translation>Bordure à exclure (pixels)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="114"/>
        <source>MTF gain at Nyquist (for QNR)</source>
        <translation>Gain MTF à Nyquist (pour le QNR)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="117"/>
        <source>Metrics (JSON)</source>
        <translation>Métriques (JSON)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="117"/>
        <source>Per-band metrics (CSV)</source>
        <translation>Métriques par bande (CSV)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="117"/>
        <source>Report (HTML)</source>
        <translation>Rapport (HTML)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="130"/>
        <source>SAM map</source>
        <translation>Carte SAM</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="155"/>
        <source>The per-band CSV, the maps and the spectra need a REFERENCE; only QNR is reported.</source>
        <translation>Le CSV par bande, les cartes et les spectres nécessitent une REFERENCE ; seul le QNR est calculé.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="168"/>
        <source>bands excluded (nodata everywhere): {bands}</source>
        <translation>bandes exclues (nodata partout) : {bands}</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="72"/>
        <source>Inputs</source>
        <translation>Entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="72"/>
        <source>Outputs</source>
        <translation>Sorties</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="72"/>
        <source>Reference</source>
        <translation>Référence</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="72"/>
        <source>Run time</source>
        <translation>Durée d'exécution</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="78"/>
        <source>Parameters</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="296"/>
        <source>{name}: no raster layer was given.</source>
        <translation>{name} : aucune couche raster n'a été fournie.</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="298"/>
        <source>{name}: the layer &apos;{layer}&apos; is not a file GDAL can read (provider {provider}). Export it to GeoTIFF first.</source>
        <translation>{name} : la couche « {layer} » n'est pas un fichier lisible par GDAL (fournisseur {provider}). Exportez-la d'abord en GeoTIFF.</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="336"/>
        <source>The run was cancelled; no output was written.</source>
        <translation>L'exécution a été annulée ; aucune sortie n'a été écrite.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="20"/>
        <source>Baseline: {name}</source>
        <translation>Base de comparaison : {name}</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="21"/>
        <source>Classical: {name}</source>
        <translation>Classique : {name}</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="135"/>
        <source>MS spectral responses (CSV; empty = estimate)</source>
        <translation>Réponses spectrales MS (CSV ; vide = estimation)</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="158"/>
        <source>{blocks} block(s) written; {seconds:.1f} s.</source>
        <translation>{blocks} bloc(s) écrit(s) ; {seconds:.1f} s.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="161"/>
        <source>{method} (ratio {ratio})</source>
        <translation>{method} (rapport {ratio})</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="161"/>
        <source>{method} fused (ratio {ratio})</source>
        <translation>Fusion {method} (rapport {ratio})</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="64"/>
        <source>Fit a per-band offset</source>
        <translation>Ajuster un décalage par bande</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="66"/>
        <source>Smoothness of R across HS bands</source>
        <translation>Lissage de R entre bandes HS</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="69"/>
        <source>Spectral responses (CSV)</source>
        <translation>Réponses spectrales (CSV)</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="72"/>
        <source>Estimate (JSON)</source>
        <translation>Estimation (JSON)</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="74"/>
        <source>PSF σ (HR pixels)</source>
        <translation>σ de la PSF (pixels HR)</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="75"/>
        <source>MTF gain at the LR Nyquist frequency</source>
        <translation>Gain MTF à la fréquence de Nyquist LR</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="80"/>
        <source>Network: {name}</source>
        <translation>Réseau : {name}</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="115"/>
        <source>Model</source>
        <translation>Modèle</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="191"/>
        <source>Weights file</source>
        <translation>Fichier de poids</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="120"/>
        <source>Training steps (when training on the inputs)</source>
        <translation>Itérations d'entraînement (pour l'entraînement sur les entrées)</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="136"/>
        <source>Weights of the model used</source>
        <translation>Poids du modèle utilisé</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="191"/>
        <source>HyperFuse weights (*.pt)</source>
        <translation>Poids HyperFuse (*.pt)</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="139"/>
        <source>Model used</source>
        <translation>Modèle utilisé</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="162"/>
        <source>Model: {model}; {blocks} block(s); training {training:.1f} s, inference {inference:.1f} s.</source>
        <translation>Modèle : {model} ; {blocks} bloc(s) ; entraînement {training:.1f} s, inférence {inference:.1f} s.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="166"/>
        <source>{method} fused (ratio {ratio}, {model})</source>
        <translation>Fusion {method} (rapport {ratio}, {model})</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="184"/>
        <source>bundled model {file}</source>
        <translation>modèle intégré {file}</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="187"/>
        <source>bundled {sensor} model</source>
        <translation>modèle intégré {sensor}</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="189"/>
        <source>weights {file}</source>
        <translation>poids {file}</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="20"/>
        <source>Fusion</source>
        <translation>Fusion d'images</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="21"/>
        <source>Simulation and assessment</source>
        <translation>Simulation et évaluation</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="22"/>
        <source>Training</source>
        <translation>Entraînement</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="23"/>
        <source>Tools</source>
        <translation>Outils</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="45"/>
        <source>Low-resolution hyperspectral image (LR-HSI)</source>
        <translation>Image hyperspectrale basse résolution (LR-HSI)</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="46"/>
        <source>High-resolution multispectral image (HR-MSI)</source>
        <translation>Image multispectrale haute résolution (HR-MSI)</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="47"/>
        <source>Block size (HR pixels)</source>
        <translation>Taille des blocs (pixels HR)</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="48"/>
        <source>Device</source>
        <translation>Périphérique de calcul</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="49"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="52"/>
        <source>Fused HR-HSI</source>
        <translation>HR-HSI fusionnée</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="76"/>
        <source>Projection onto the inputs</source>
        <translation>Projection sur les entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="77"/>
        <source>MTF gain of the PSF (for the projection)</source>
        <translation>Gain MTF de la PSF (pour la projection)</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="78"/>
        <source>Fine-tuning steps on the inputs at full resolution (0 = none)</source>
        <translation>Itérations d'affinage sur les entrées à pleine résolution (0 = aucune)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="60"/>
        <source>Resolution ratio</source>
        <translation>Rapport de résolution</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="62"/>
        <source>MS spectral responses</source>
        <translation>Réponses spectrales MS</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="64"/>
        <source>Spectral response CSV (SRF = CSV file)</source>
        <translation>CSV des réponses spectrales (SRF = Fichier CSV)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="66"/>
        <source>MS band subset (e.g. B2,B3,B4,B8)</source>
        <translation>Sous-ensemble de bandes MS (p. ex. B2,B3,B4,B8)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="68"/>
        <source>Point-spread function</source>
        <translation>Fonction d'étalement du point (PSF)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="71"/>
        <source>MTF gain at Nyquist</source>
        <translation>Gain MTF à Nyquist</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="74"/>
        <source>PSF kernel CSV (PSF = kernel file)</source>
        <translation>Noyau de PSF en CSV (PSF = Fichier de noyau)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="79"/>
        <source>LR-HSI noise SNR (dB, 0 = none)</source>
        <translation>SNR du bruit de la LR-HSI (dB, 0 = aucun)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="81"/>
        <source>HR-MSI noise SNR (dB, 0 = none)</source>
        <translation>SNR du bruit de la HR-MSI (dB, 0 = aucun)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="83"/>
        <source>Wavelengths (nm) when the reference has none</source>
        <translation>Longueurs d'onde (nm) si la référence n'en a pas</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="105"/>
        <source>Simulate degradation</source>
        <translation>Simuler la dégradation</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="152"/>
        <source>Simulated LR-HSI</source>
        <translation>LR-HSI simulée</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="154"/>
        <source>Simulated HR-MSI</source>
        <translation>HR-MSI simulée</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="156"/>
        <source>Reference (cropped)</source>
        <translation>Référence (recadrée)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="158"/>
        <source>Spectral response matrix (CSV)</source>
        <translation>Matrice des réponses spectrales (CSV)</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="172"/>
        <source>Simulated LR-HSI (ratio {ratio})</source>
        <translation>LR-HSI simulée (rapport {ratio})</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="174"/>
        <source>Simulated HR-MSI (ratio {ratio}) – {sensor}</source>
        <translation>HR-MSI simulée (rapport {ratio}) – {sensor}</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="176"/>
        <source>Reference, cropped (ratio {ratio})</source>
        <translation>Référence recadrée (rapport {ratio})</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="24"/>
        <source>Self-supervised on LR_HSI + HR_MSI (Wald protocol)</source>
        <translation>Auto-supervisé sur LR_HSI + HR_MSI (protocole de Wald)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="25"/>
        <source>Supervised from REFERENCE (inputs simulated from it)</source>
        <translation>Supervisé à partir de REFERENCE (entrées simulées à partir de celle-ci)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="38"/>
        <source>Train a fusion model</source>
        <translation>Entraîner un modèle de fusion</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="141"/>
        <source>Method</source>
        <translation>Méthode</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="144"/>
        <source>Training data</source>
        <translation>Données d'entraînement</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="147"/>
        <source>Low-resolution hyperspectral image (self-supervised)</source>
        <translation>Image hyperspectrale basse résolution (auto-supervisé)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="150"/>
        <source>High-resolution multispectral image (self-supervised)</source>
        <translation>Image multispectrale haute résolution (auto-supervisé)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="153"/>
        <source>Reference HR-HSI (supervised)</source>
        <translation>HR-HSI de référence (supervisé)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="159"/>
        <source>Training steps (at most)</source>
        <translation>Itérations d'entraînement (au plus)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="161"/>
        <source>Batch size (0 = method default)</source>
        <translation>Taille de lot (0 = valeur par défaut de la méthode)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="163"/>
        <source>Patch size in HR pixels (0 = method default)</source>
        <translation>Taille des imagettes en pixels HR (0 = valeur par défaut de la méthode)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="166"/>
        <source>Learning rate (0 = method default)</source>
        <translation>Taux d'apprentissage (0 = valeur par défaut de la méthode)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="169"/>
        <source>Time budget in minutes (0 = none)</source>
        <translation>Budget de temps en minutes (0 = aucun)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="174"/>
        <source>Weights to fine-tune (optional)</source>
        <translation>Poids à affiner (facultatif)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="178"/>
        <source>Validation fraction</source>
        <translation>Fraction de validation</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="181"/>
        <source>Steps between validation checks (0 = automatic)</source>
        <translation>Itérations entre deux validations (0 = automatique)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="184"/>
        <source>Early-stopping patience (checks, 0 = off)</source>
        <translation>Patience de l'arrêt anticipé (validations, 0 = désactivé)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="194"/>
        <source>Training log (HTML)</source>
        <translation>Journal d'entraînement (HTML)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="197"/>
        <source>Validation PSNR of the weights kept (dB)</source>
        <translation>PSNR de validation des poids retenus (dB)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="199"/>
        <source>Validation SAM of the weights kept (degrees)</source>
        <translation>SAM de validation des poids retenus (degrés)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="201"/>
        <source>Steps run</source>
        <translation>Itérations effectuées</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="227"/>
        <source>ADAPT_STEPS fine-tunes the trained model on LR_HSI and HR_MSI at full resolution, so it needs MODE 0 (self-supervised). Set ADAPT_STEPS to 0, or train on LR_HSI and HR_MSI.</source>
        <translation>ADAPT_STEPS affine le modèle entraîné sur LR_HSI et HR_MSI à pleine résolution ; il faut donc MODE 0 (auto-supervisé). Mettez ADAPT_STEPS à 0, ou entraînez le modèle sur LR_HSI et HR_MSI.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="232"/>
        <source>MODE is &apos;supervised from REFERENCE&apos; but no REFERENCE layer was given. Choose a high-resolution hyperspectral raster, or use MODE 0 with LR_HSI and HR_MSI.</source>
        <translation>MODE vaut « supervisé à partir de REFERENCE » mais aucune couche REFERENCE n'a été fournie. Choisissez un raster hyperspectral haute résolution, ou utilisez MODE 0 avec LR_HSI et HR_MSI.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="241"/>
        <source>MODE is &apos;self-supervised&apos; but LR_HSI or HR_MSI is missing. Give both, or use MODE 1 with a REFERENCE.</source>
        <translation>MODE vaut « auto-supervisé » mais LR_HSI ou HR_MSI manque. Fournissez les deux, ou utilisez MODE 1 avec une REFERENCE.</translation>
    </message>
    <message>
        <location filename="../core/inference/adaptation.py" line="27"/>
        <source>none</source>
        <translation>aucune</translation>
    </message>
    <message>
        <location filename="../core/inference/adaptation.py" line="28"/>
        <source>both observations</source>
        <translation>les deux observations</translation>
    </message>
    <message>
        <location filename="../core/inference/fusion.py" line="47"/>
        <source>auto</source>
        <translation>auto</translation>
    </message>
    <message>
        <location filename="../core/inference/fusion.py" line="48"/>
        <source>weights file</source>
        <translation>fichier de poids</translation>
    </message>
    <message>
        <location filename="../core/inference/fusion.py" line="49"/>
        <source>train on the inputs</source>
        <translation>entraîner sur les entrées</translation>
    </message>
    <message>
        <location filename="../core/inference/fusion.py" line="52"/>
        <source>generic bundled model</source>
        <translation>modèle générique intégré</translation>
    </message>
    <message>
        <location filename="../core/inference/fusion.py" line="53"/>
        <source>trained on the inputs</source>
        <translation>entraîné sur les entrées</translation>
    </message>
    <message>
        <location filename="../core/protocol/simulation.py" line="24"/>
        <source>Gaussian (MTF gain at Nyquist)</source>
        <translation>Gaussienne (gain MTF à Nyquist)</translation>
    </message>
    <message>
        <location filename="../core/protocol/simulation.py" line="25"/>
        <source>Box average over the r × r footprint</source>
        <translation>Moyenne uniforme sur l'empreinte r × r</translation>
    </message>
    <message>
        <location filename="../core/protocol/simulation.py" line="26"/>
        <source>Kernel file (PSF_FILE)</source>
        <translation>Fichier de noyau (PSF_FILE)</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="184"/>
        <source>Sentinel-2A MSI, all 13 bands</source>
        <translation>Sentinel-2A MSI, les 13 bandes</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="185"/>
        <source>Sentinel-2B MSI, all 13 bands</source>
        <translation>Sentinel-2B MSI, les 13 bandes</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="188"/>
        <source>MLPLN 4-band averaging (Blue, Green, Red, NIR)</source>
        <translation>Moyennes MLPLN sur 4 bandes (bleu, vert, rouge, PIR)</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="193"/>
        <source>WorldView-2 (8 bands)</source>
        <translation>WorldView-2 (8 bandes)</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="198"/>
        <source>Generic RGB camera</source>
        <translation>Caméra RVB générique</translation>
    </message>
    <message>
        <location filename="../core/protocol/srf.py" line="201"/>
        <source>CSV file (SRF_FILE)</source>
        <translation>Fichier CSV (SRF_FILE)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Padding factor κ</source>
        <translation>Facteur de marge κ</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Scalability number η</source>
        <translation>Nombre d'échelles η</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Largest patch size (HR pixels)</source>
        <translation>Taille de la plus grande imagette (pixels HR)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>SVD components (0 = automatic)</source>
        <translation>Composantes SVD (0 = automatique)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Variant</source>
        <translation>Variante</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>paper: concentric patches, linear head</source>
        <translation>article : imagettes concentriques, tête linéaire</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>box means with bicubic residual</source>
        <translation>moyennes par fenêtre avec résidu bicubique</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="184"/>
        <source>Correction iterations</source>
        <translation>Itérations de correction</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Stages K</source>
        <translation>Étages K</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Rank (0 = automatic)</source>
        <translation>Rang (0 = automatique)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>ResNet levels L</source>
        <translation>Niveaux ResNet L</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="234"/>
        <source>Loss levels</source>
        <translation>Niveaux de la perte</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="275"/>
        <source>MTF gain of the PSF at Nyquist (0 = estimate)</source>
        <translation>Gain MTF de la PSF à Nyquist (0 = estimation)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="282"/>
        <source>Bicubic upsampling</source>
        <translation>Suréchantillonnage bicubique</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="297"/>
        <source>Low-pass filter</source>
        <translation>Filtre passe-bas</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="297"/>
        <source>MTF-matched Gaussian (MTF-GLP)</source>
        <translation>Gaussienne ajustée à la MTF (MTF-GLP)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="297"/>
        <source>Box r × r (SFIM)</source>
        <translation>Moyenne r × r (SFIM)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Endmembers</source>
        <translation>Pôles purs</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Inner iterations</source>
        <translation>Itérations internes</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Coupling rounds</source>
        <translation>Cycles de couplage</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Subspace dimension p (0 = MS bands)</source>
        <translation>Dimension du sous-espace p (0 = bandes MS)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>TV weight λφ</source>
        <translation>Poids de la TV λφ</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>MS data weight λm</source>
        <translation>Poids des données MS λm</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>ADMM iterations</source>
        <translation>Itérations ADMM</translation>
    </message>
    <message>
        <location filename="../processing_provider/provider.py" line="28"/>
        <source>HyperFuse: hyperspectral and multispectral image fusion</source>
        <translation>HyperFuse : fusion d'images hyperspectrales et multispectrales</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="25"/>
        <source>Reference HR-HSI (a hyperspectral scene)</source>
        <translation>HR-HSI de référence (une scène hyperspectrale)</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="25"/>
        <source>Quality report (HTML)</source>
        <translation>Rapport de qualité (HTML)</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="25"/>
        <source>Metrics and ranking (JSON)</source>
        <translation>Métriques et classement (JSON)</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="34"/>
        <source>Compare fusion methods</source>
        <translation>Comparer les méthodes de fusion</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="16"/>
        <source>Estimate sensor responses</source>
        <translation>Estimer les réponses du capteur</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="18"/>
        <source>peak signal-to-noise ratio in dB, mean over bands, peak = max of each reference band (higher is better)</source>
        <translation>rapport signal sur bruit de crête en dB, moyenne sur les bandes, crête = max de chaque bande de référence (plus élevé = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="21"/>
        <source>spectral angle mapper in degrees, mean over pixels (lower is better)</source>
        <translation>angle spectral (spectral angle mapper) en degrés, moyenne sur les pixels (plus faible = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="22"/>
        <source>relative dimensionless global error, (100/r)·sqrt(mean of RMSE²/mean²) (lower is better)</source>
        <translation>erreur relative globale adimensionnelle, (100/r)·sqrt(moyenne de RMSE²/moyenne²) (plus faible = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="24"/>
        <source>structural similarity, 11 × 11 Gaussian window σ 1.5, mean over bands (higher is better)</source>
        <translation>similarité structurelle, fenêtre gaussienne 11 × 11 de σ 1.5, moyenne sur les bandes (plus élevé = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="26"/>
        <source>root mean square error in data units (lower is better)</source>
        <translation>erreur quadratique moyenne (racine) dans les unités des données (plus faible = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="27"/>
        <source>correlation coefficient, mean over bands (higher is better)</source>
        <translation>coefficient de corrélation, moyenne sur les bandes (plus élevé = meilleur)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="28"/>
        <source>quality with no reference, (1 − D_λ)(1 − D_s), from LR_HSI and HR_MSI (higher is better, 1 is perfect)</source>
        <translation>qualité sans référence, (1 − D_λ)(1 − D_s), à partir de LR_HSI et HR_MSI (plus élevé = meilleur, 1 = parfait)</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="41"/>
        <source>Compares fused rasters with a reference on the same grid by the metrics of the HyperFuse protocol, over pixels valid in both and over bands that are not nodata everywhere (those are reported), and ranks several fused rasters on every metric. Given the LR-HSI and HR-MSI a fusion used, it also computes the no-reference QNR, for real pairs without a reference. The numeric outputs are those of the first fused layer: {metrics}.</source>
        <translation>Compare des rasters fusionnés à une référence sur la même grille selon les métriques du protocole HyperFuse, sur les pixels valides dans les deux et sur les bandes qui ne sont pas nodata partout (celles-ci sont signalées), et classe plusieurs rasters fusionnés selon chaque métrique. Si l'on fournit la LR-HSI et la HR-MSI utilisées par une fusion, il calcule aussi le QNR, sans référence, pour les paires réelles qui n'en ont pas. Les sorties numériques sont celles de la première couche fusionnée : {metrics}.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="48"/>
        <source>One or more fused rasters (FUSED) on the grid of the reference, with the same bands; optionally the reference HR-HSI (REFERENCE); optionally the LR-HSI and HR-MSI the fusion used, for QNR.</source>
        <translation>Un ou plusieurs rasters fusionnés (FUSED) sur la grille de la référence, avec les mêmes bandes ; éventuellement la HR-HSI de référence (REFERENCE) ; éventuellement la LR-HSI et la HR-MSI utilisées par la fusion, pour le QNR.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="52"/>
        <source>The metrics of the first fused layer as numeric outputs ({metrics}) and in the log for every layer; optionally OUTPUT_JSON (every metric, per-band tables, excluded bands, the ranking), OUTPUT_CSV (per-band metrics), OUTPUT_HTML (a report with plots) and OUTPUT_SAM_MAP (a raster of the per-pixel spectral angle).</source>
        <translation>Les métriques de la première couche fusionnée en sorties numériques ({metrics}) et, pour chaque couche, dans le journal ; en option OUTPUT_JSON (toutes les métriques, les tableaux par bande, les bandes exclues, le classement), OUTPUT_CSV (métriques par bande), OUTPUT_HTML (un rapport avec graphiques) et OUTPUT_SAM_MAP (un raster de l'angle spectral par pixel).</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="57"/>
        <source>Wald&apos;s protocol: L. Wald, T. Ranchin, M. Mangolini, PE&amp;RS 63(6), 1997. ERGAS: L. Wald, Fusion of Earth Data, 2000. SAM: R. H. Yuhas, A. F. H. Goetz, J. W. Boardman, 1992. SSIM: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, IEEE TIP 13(4), 2004. UIQI: Z. Wang, A. C. Bovik, IEEE SPL 9(3), 2002. Q2n: A. Garzelli, F. Nencini, IEEE GRSL 6(4), 2009. QNR: L. Alparone et al., PE&amp;RS 74(2), 2008. Definitions and the choices HyperFuse makes: docs/protocol.md.</source>
        <translation>Protocole de Wald : L. Wald, T. Ranchin, M. Mangolini, PE&amp;RS 63(6), 1997. ERGAS : L. Wald, Fusion of Earth Data, 2000. SAM : R. H. Yuhas, A. F. H. Goetz, J. W. Boardman, 1992. SSIM : Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, IEEE TIP 13(4), 2004. UIQI : Z. Wang, A. C. Bovik, IEEE SPL 9(3), 2002. Q2n : A. Garzelli, F. Nencini, IEEE GRSL 6(4), 2009. QNR : L. Alparone et al., PE&amp;RS 74(2), 2008. Définitions et choix faits par HyperFuse : docs/protocol.md.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="64"/>
        <source>About 5 s for one fused layer of the 128 × 128-pixel, 224-band EnMAP development scene with reference, QNR and the HTML report (measured once on 2 CPU cores shared with another job); each further fused layer adds its metrics. It runs on the CPU only (NumPy and SciPy), never on a GPU.</source>
        <translation>Environ 5 s pour une couche fusionnée de la scène de développement EnMAP (128 × 128 pixels, 224 bandes) avec référence, QNR et rapport HTML (mesuré une fois sur 2 cœurs CPU partagés avec une autre tâche) ; chaque couche fusionnée supplémentaire ajoute le calcul de ses métriques. L'algorithme s'exécute uniquement sur le CPU (NumPy et SciPy), jamais sur un GPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="70"/>
        <source>Optional reference high-resolution hyperspectral raster, e.g. OUTPUT_REFERENCE of Simulate degradation. Without it only QNR is computed.</source>
        <translation>Raster hyperspectral haute résolution de référence, facultatif, p. ex. OUTPUT_REFERENCE de Simuler la dégradation. Sans lui, seul le QNR est calculé.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="73"/>
        <source>One or more fused rasters on the reference grid with the same bands; several are ranked.</source>
        <translation>Un ou plusieurs rasters fusionnés sur la grille de référence, avec les mêmes bandes ; s'il y en a plusieurs, ils sont classés.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="75"/>
        <source>Optional LR-HSI the fusion used: with HR_MSI it gives the no-reference QNR and can infer RATIO.</source>
        <translation>LR-HSI utilisée par la fusion, facultative : avec HR_MSI, elle permet le QNR sans référence et de déduire RATIO.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="78"/>
        <source>Optional HR-MSI the fusion used (see LR_HSI).</source>
        <translation>HR-MSI utilisée par la fusion, facultative (voir LR_HSI).</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="79"/>
        <source>Resolution ratio r of the fusion; ERGAS is scaled by 100/r. 0 infers it from LR_HSI and HR_MSI.</source>
        <translation>Rapport de résolution r de la fusion ; l'ERGAS est pondéré par 100/r. 0 le déduit de LR_HSI et HR_MSI.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="82"/>
        <source>Pixels to leave out along every edge of the image (0 keeps all).</source>
        <translation>Pixels à exclure le long de chaque bord de l'image (0 les garde tous).</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="83"/>
        <source>MTF gain of the Gaussian PSF that relates the two scales, for QNR (the simulation&apos;s, 0.25 by default).</source>
        <translation>Gain MTF de la PSF gaussienne qui relie les deux échelles, pour le QNR (celui de la simulation, 0.25 par défaut).</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="89"/>
        <source>Optional CSV with one row per band: wavelength, then PSNR, SSIM, CC, UIQI and RMSE of every fused layer.</source>
        <translation>CSV facultatif avec une ligne par bande : longueur d'onde, puis PSNR, SSIM, CC, UIQI et RMSE de chaque couche fusionnée.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="96"/>
        <source>Optional georeferenced raster of the per-pixel spectral angle (degrees) of the first fused layer.</source>
        <translation>Raster géoréférencé facultatif de l'angle spectral par pixel (en degrés) de la première couche fusionnée.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="23"/>
        <source>Optional CSV of the MS sensor&apos;s spectral responses (a &apos;wavelength_nm&apos; column, then one column per HR-MSI band, e.g. OUTPUT_SRF of Estimate responses or a sensor file). Needs wavelength metadata on the LR-HSI. Empty: R is estimated from the inputs.</source>
        <translation>CSV facultatif des réponses spectrales du capteur MS (une colonne 'wavelength_nm', puis une colonne par bande de la HR-MSI, p. ex. OUTPUT_SRF d'Estimer les réponses du capteur ou un fichier du capteur). Nécessite les métadonnées de longueur d'onde de la LR-HSI. Vide : R est estimée à partir des entrées.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="61"/>
        <source>It works block by block, so rasters of any size can be fused.</source>
        <translation>La méthode travaille bloc par bloc : des rasters de toute taille peuvent être fusionnés.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="68"/>
        <source>{summary} {scope} Needs no PyTorch.</source>
        <translation>{summary} {scope} Ne nécessite pas PyTorch.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="76"/>
        <source>{inputs} Only the LR-HSI&apos;s values are up-sampled; the HR-MSI sets the output grid.</source>
        <translation>{inputs} Seules les valeurs de la LR-HSI sont suréchantillonnées ; la HR-MSI fixe la grille de sortie.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="78"/>
        <source>{inputs} The method needs the MS sensor&apos;s spectral responses R: read from SRF_FILE when given, else estimated from the pair, as Estimate sensor responses does.</source>
        <translation>{inputs} La méthode a besoin des réponses spectrales R du capteur MS : lues dans SRF_FILE s'il est fourni, sinon estimées à partir de la paire, comme le fait Estimer les réponses du capteur.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="84"/>
        <source>{paper}. How HyperFuse implements it: docs/classical.md.</source>
        <translation>{paper}. Mise en œuvre dans HyperFuse : docs/classical.md.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="90"/>
        <source>under a second for each development scene (up to 128 × 128 HR pixels and 218 bands), up to 2 s with the projection onto the inputs</source>
        <translation>moins d'une seconde pour chaque scène de développement (jusqu'à 128 × 128 pixels HR et 218 bandes), jusqu'à 2 s avec la projection sur les entrées</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="94"/>
        <source>0.3–5 s for each development scene (up to 128 × 128 HR pixels and 218 bands) with the default settings, the projection onto the inputs included or not; the time also grows with the method's iterations</source>
        <translation>0.3–5 s pour chaque scène de développement (jusqu'à 128 × 128 pixels HR et 218 bandes) avec les réglages par défaut, avec ou sans la projection sur les entrées ; la durée croît aussi avec les itérations de la méthode</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="98"/>
        <source>Measured on 2 CPU cores (AMD EPYC): {measured} (docs/benchmark.md). Time grows with the number of pixels and of HS bands. It runs on the CPU only (NumPy and SciPy), never on a GPU.</source>
        <translation>Mesuré sur 2 cœurs CPU (AMD EPYC) : {measured} (docs/benchmark.md). La durée croît avec le nombre de pixels et de bandes HS. La méthode s'exécute uniquement sur le CPU (NumPy et SciPy), jamais sur un GPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="119"/>
        <source>{projection} For the classical methods it is off by default, so that they stay the published baselines.</source>
        <translation>{projection} Pour les méthodes classiques, elle est désactivée par défaut, afin qu'elles restent les références publiées.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="35"/>
        <source>A shipped model: simulates an LR-HSI and an HR-MSI from a reference hyperspectral scene, fuses them with the five networks (MODEL = auto: a matching sensor-specific bundled model, else the generic one) and with GSA, MTF-GLP-HS, CNMF and bicubic upsampling, then ranks every result with Quality assessment. Open models/compare_fusion_methods.model3 in the graphical modeler to change the methods or their settings.</source>
        <translation>Un modèle fourni avec l'extension : il simule une LR-HSI et une HR-MSI à partir d'une scène hyperspectrale de référence, les fusionne avec les cinq réseaux (MODEL = auto : un modèle intégré propre au capteur s'il correspond, sinon le modèle générique) et avec GSA, MTF-GLP-HS, CNMF et le suréchantillonnage bicubique, puis classe chaque résultat avec Évaluation de la qualité. Ouvrez models/compare_fusion_methods.model3 dans le modeleur graphique pour changer les méthodes ou leurs réglages.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="41"/>
        <source>A hyperspectral raster with band wavelengths, taken as the truth; the ratio and the multispectral sensor of the simulated pair.</source>
        <translation>Un raster hyperspectral avec les longueurs d'onde de ses bandes, pris comme vérité terrain ; le rapport de résolution et le capteur multispectral de la paire simulée.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="44"/>
        <source>assess:REPORT: the HTML report, with the ranked quality table, per-band curves, error maps and spectra; assess:METRICS: every metric and the ranking as JSON.</source>
        <translation>assess:REPORT : le rapport HTML, avec le tableau de qualité classé, les courbes par bande, les cartes d'erreur et les spectres ; assess:METRICS : toutes les métriques et le classement en JSON.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="47"/>
        <source>Simulation and scoring by Wald&apos;s protocol: L. Wald, T. Ranchin, M. Mangolini, Fusion of satellite images of different spatial resolutions: assessing the quality of resulting images, Photogrammetric Engineering and Remote Sensing, 1997. Each method&apos;s paper is in its own help.</source>
        <translation>Simulation et notation selon le protocole de Wald : L. Wald, T. Ranchin, M. Mangolini, Fusion of satellite images of different spatial resolutions: assessing the quality of resulting images, Photogrammetric Engineering and Remote Sensing, 1997. L'article de chaque méthode figure dans sa propre aide.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="51"/>
        <source>Measured once on 2 CPU cores: 27 s for a 48 × 48-pixel scene of 30 bands at ratio 3 through qgis_process; the sum of its fusions' times on larger scenes (see each algorithm's help).</source>
        <translation>Mesuré une fois sur 2 cœurs CPU : 27 s pour une scène de 48 × 48 pixels et 30 bandes au rapport 3 via qgis_process ; sur des scènes plus grandes, la somme des durées de ses fusions (voir l'aide de chaque algorithme).</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="55"/>
        <source>A hyperspectral raster with band wavelengths, taken as the truth: the inputs are simulated from it and every fusion is scored against it.</source>
        <translation>Un raster hyperspectral avec les longueurs d'onde de ses bandes, pris comme vérité terrain : les entrées sont simulées à partir de lui et chaque fusion est notée par rapport à lui.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="58"/>
        <source>Resolution ratio r of the simulated pair: the LR-HSI has r times fewer pixels along each side.</source>
        <translation>Rapport de résolution r de la paire simulée : la LR-HSI a r fois moins de pixels le long de chaque côté.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="61"/>
        <source>Spectral responses of the simulated multispectral sensor, a preset: {presets}. The CSV file option needs Simulate degradation&apos;s SRF_FILE, which this model does not ask for: add it in the graphical modeler.</source>
        <translation>Réponses spectrales du capteur multispectral simulé, un préréglage : {presets}. L'option Fichier CSV a besoin du SRF_FILE de Simuler la dégradation, que ce modèle ne demande pas : ajoutez-le dans le modeleur graphique.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="66"/>
        <source>The HTML report of Quality assessment, with the ranked quality table.</source>
        <translation>Le rapport HTML d'Évaluation de la qualité, avec le tableau de qualité classé.</translation>
    </message>
    <message>
        <location filename="../algorithms/compare_model.py" line="68"/>
        <source>Every metric of every fused raster and the ranking, as JSON.</source>
        <translation>Toutes les métriques de chaque raster fusionné et le classement, en JSON.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="19"/>
        <source>Estimates, from an LR-HSI and an HR-MSI of the same scene, the spectral response matrix R (how each MS band combines the HS bands; rows non-negative, summing to 1) and the σ of the Gaussian PSF that relates the two resolutions, using D_σ(Y) = R Z: σ minimises the misfit of the degraded HR-MSI with combinations of HS bands, R is its non-negative least-squares fit. Pairs larger than 256 × 256 LR pixels are estimated on their central 256 × 256 LR pixels.</source>
        <translation>Estime, à partir d'une LR-HSI et d'une HR-MSI de la même scène, la matrice des réponses spectrales R (comment chaque bande MS combine les bandes HS ; lignes positives ou nulles, de somme 1) et le σ de la PSF gaussienne qui relie les deux résolutions, à l'aide de D_σ(Y) = R Z : σ minimise l'écart entre la HR-MSI dégradée et des combinaisons de bandes HS, et R en est l'ajustement par moindres carrés positifs. Les paires de plus de 256 × 256 pixels LR sont estimées sur leurs 256 × 256 pixels LR centraux.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="25"/>
        <source>An LR-HSI and an HR-MSI of the same scene on grids that line up (the LR pixel an integer multiple r ≥ 2 of the HR pixel). Wavelength metadata on the LR-HSI is needed for OUTPUT_SRF.</source>
        <translation>Une LR-HSI et une HR-MSI de la même scène sur des grilles alignées (le pixel LR étant un multiple entier r ≥ 2 du pixel HR). Les métadonnées de longueur d'onde de la LR-HSI sont nécessaires pour OUTPUT_SRF.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="28"/>
        <source>SIGMA: the PSF σ in HR pixels; MTF_GAIN: the equivalent response at the LR Nyquist frequency, for Simulate degradation and the classical fusions; OUTPUT_SRF: R as an SRF CSV usable as SRF_FILE of Simulate degradation and of the classical fusions; OUTPUT_JSON: everything, including per-band residuals.</source>
        <translation>SIGMA : le σ de la PSF en pixels HR ; MTF_GAIN : la réponse équivalente à la fréquence de Nyquist LR, pour Simuler la dégradation et les fusions classiques ; OUTPUT_SRF : R sous forme de CSV de SRF, utilisable comme SRF_FILE de Simuler la dégradation et des fusions classiques ; OUTPUT_JSON : tout, y compris les résidus par bande.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="33"/>
        <source>The identity D_σ(Y) = R Z from which M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot estimate both responses (A convex formulation for hyperspectral image superresolution via subspace-based regularization, IEEE TGRS 53(6), 2015, Sec. IV); R by non-negative least squares (C. L. Lawson, R. J. Hanson, Solving Least Squares Problems, 1974).</source>
        <translation>L'identité D_σ(Y) = R Z à partir de laquelle M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot estiment les deux réponses (A convex formulation for hyperspectral image superresolution via subspace-based regularization, IEEE TGRS 53(6), 2015, Sec. IV) ; R par moindres carrés positifs (C. L. Lawson, R. J. Hanson, Solving Least Squares Problems, 1974).</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="38"/>
        <source>About 0.4 s for the 128 × 128-pixel, 224-band EnMAP development scene simulated at ratio 3 (measured once on 2 CPU cores shared with another job); larger pairs are estimated on their central 256 × 256 LR pixels, which bounds the time. It runs on the CPU only (NumPy and SciPy), never on a GPU.</source>
        <translation>Environ 0.4 s pour la scène de développement EnMAP (128 × 128 pixels, 224 bandes) simulée au rapport 3 (mesuré une fois sur 2 cœurs CPU partagés avec une autre tâche) ; les paires plus grandes sont estimées sur leurs 256 × 256 pixels LR centraux, ce qui borne la durée. L'algorithme s'exécute uniquement sur le CPU (NumPy et SciPy), jamais sur un GPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="46"/>
        <source>Also fit a per-MS-band additive offset (e.g. path radiance or a calibration difference between the sensors). Off for simulated pairs and surface-reflectance products.</source>
        <translation>Ajuster aussi un décalage additif par bande MS (p. ex. luminance atmosphérique de trajet ou écart d'étalonnage entre les capteurs). À désactiver pour les paires simulées et les produits en réflectance de surface.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="49"/>
        <source>Weight of a penalty on differences between neighbouring HS bands in each row of R, relative to the data; 0 (default) fits R freely, which is exact for noise-free pairs. Try 1e-4 to 1e-3 for noisy pairs.</source>
        <translation>Poids d'une pénalité sur les différences entre bandes HS voisines dans chaque ligne de R, relativement aux données ; 0 (par défaut) ajuste R librement, ce qui est exact pour des paires sans bruit. Essayez 1e-4 à 1e-3 pour des paires bruitées.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="53"/>
        <source>CSV of R as response curves: a &apos;wavelength_nm&apos; column (the LR-HSI band centres) and one column per HR-MSI band. Needs wavelength metadata on the LR-HSI; leave empty without it.</source>
        <translation>CSV de R sous forme de courbes de réponse : une colonne 'wavelength_nm' (les centres des bandes de la LR-HSI) et une colonne par bande de la HR-MSI. Nécessite les métadonnées de longueur d'onde de la LR-HSI ; laissez vide sans elles.</translation>
    </message>
    <message>
        <location filename="../algorithms/estimate.py" line="56"/>
        <source>JSON with σ, MTF gain, ratio, R (one row per MS band, one column per LR-HSI band), the gains between MS and HS units, offsets, per-band relative residuals and the σ search.</source>
        <translation>JSON avec σ, le gain MTF, le rapport de résolution, R (une ligne par bande MS, une colonne par bande de la LR-HSI), les gains entre unités MS et HS, les décalages, les résidus relatifs par bande et la recherche de σ.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="36"/>
        <source>auto: a sensor-specific bundled model when one matches the inputs' bands, wavelengths and ratio (which needs wavelength metadata on the LR-HSI), else the generic bundled model, which fuses any bands at ratios 2–8 and needs no minimum size, and at other ratios training on the inputs; weights file: the model in WEIGHTS (a generic weights file works for any bands); train on the inputs: self-supervised training by Wald's protocol (both inputs are degraded by r and the network learns to restore the LR-HSI), then fusion of the full-resolution pair; it needs an LR-HSI of at least 4r × 4r pixels. With a sensor-specific bundled model or a weights file, inputs whose values are a power of ten away from the training data's (reflectance × 10⁴ against reflectance) are converted for the network and back.</source>
        <translation>auto : un modèle intégré propre au capteur quand l'un d'eux correspond aux bandes, aux longueurs d'onde et au rapport de résolution des entrées (ce qui nécessite les métadonnées de longueur d'onde de la LR-HSI), sinon le modèle intégré générique, qui fusionne n'importe quelles bandes aux rapports 2–8 sans taille minimale, et aux autres rapports un entraînement sur les entrées ; fichier de poids : le modèle de WEIGHTS (un fichier de poids générique convient à toutes les bandes) ; entraîner sur les entrées : entraînement auto-supervisé selon le protocole de Wald (les deux entrées sont dégradées d'un facteur r et le réseau apprend à restituer la LR-HSI), puis fusion de la paire à pleine résolution ; il faut une LR-HSI d'au moins 4r × 4r pixels. Avec un modèle intégré propre au capteur ou un fichier de poids, les entrées dont les valeurs diffèrent d'une puissance de dix de celles des données d'entraînement (réflectance × 10⁴ contre réflectance) sont converties pour le réseau, puis reconverties.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="47"/>
        <source>A HyperFuse weights file (.pt) for this method, these band counts and this ratio, for MODEL = weights file.</source>
        <translation>Un fichier de poids HyperFuse (.pt) pour cette méthode, ces nombres de bandes et ce rapport de résolution, pour MODEL = fichier de poids.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="50"/>
        <source>Optimiser steps when the network is trained on the inputs (MODEL = train on the inputs, or auto at a ratio outside 2–8). More steps take longer and usually fuse better; the default 300 take one to a few minutes on two CPU cores for a scene a few hundred pixels across.</source>
        <translation>Itérations de l'optimiseur quand le réseau est entraîné sur les entrées (MODEL = entraîner sur les entrées, ou auto à un rapport hors de 2–8). Plus d'itérations prennent plus de temps et fusionnent en général mieux ; les 300 par défaut prennent d'une à quelques minutes sur deux cœurs CPU pour une scène de quelques centaines de pixels de côté.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="58"/>
        <source>Optional: write the model used (trained or loaded) with its model card, to reuse it with MODEL = weights file.</source>
        <translation>Facultatif : écrit le modèle utilisé (entraîné ou chargé) avec sa fiche de modèle, pour le réutiliser avec MODEL = fichier de poids.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="61"/>
        <source>Random seed of training: the same seed and inputs give the same weights on the CPU.</source>
        <translation>Graine aléatoire de l'entraînement : la même graine et les mêmes entrées donnent les mêmes poids sur le CPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="84"/>
        <source>Fuses a low-resolution hyperspectral raster with a high-resolution multispectral raster of the same scene using {name}. {summary} With MODEL = auto it needs no training: it uses a sensor-specific bundled model when one matches the inputs, else the generic bundled model (ratios 2–8), and trains on the inputs only at other ratios. Requires PyTorch.</source>
        <translation>Fusionne un raster hyperspectral basse résolution avec un raster multispectral haute résolution de la même scène à l'aide de {name}. {summary} Avec MODEL = auto, aucun entraînement n'est nécessaire : un modèle intégré propre au capteur est utilisé s'il correspond aux entrées, sinon le modèle intégré générique (rapports 2–8), et l'entraînement sur les entrées n'a lieu qu'aux autres rapports. Nécessite PyTorch.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="91"/>
        <source>{inputs} Wavelength metadata on the LR-HSI lets MODEL = auto match a sensor-specific bundled model. MODEL = weights file reads a HyperFuse weights file (.pt).</source>
        <translation>{inputs} Les métadonnées de longueur d'onde de la LR-HSI permettent à MODEL = auto de trouver un modèle intégré propre au capteur. MODEL = fichier de poids lit un fichier de poids HyperFuse (.pt).</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="94"/>
        <source>OUTPUT: {output} The raster&apos;s metadata names the model used. OUTPUT_WEIGHTS (optional): the model used, as a weights file with its model card. MODEL_USED: the name of the weights file used, or &apos;trained on the inputs&apos;.</source>
        <translation>OUTPUT : {output} Les métadonnées du raster nomment le modèle utilisé. OUTPUT_WEIGHTS (facultatif) : le modèle utilisé, sous forme de fichier de poids avec sa fiche de modèle. MODEL_USED : le nom du fichier de poids utilisé, ou 'trained on the inputs' (entraîné sur les entrées).</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="98"/>
        <source>Measured on 2 CPU cores (AMD EPYC): a sensor-specific bundled model fused each development scene (up to 128 × 128 HR pixels and 218 bands) in 0.1–3.5 s, the projection onto the inputs included (docs/benchmark.md); a generic model fuses a 300 × 300 HR-MSI with a 100 × 100 × 200-band LR-HSI (ratio 3) in about 15–20 s (docs/methods.md); training on the inputs with the default 300 steps took about 1–4 minutes on the 128 × 128-pixel EnMAP scene (docs/benchmark.md). Time grows with the number of pixels and of HS bands. On a GPU (DEVICE = cuda): not yet measured.</source>
        <translation>Mesuré sur 2 cœurs CPU (AMD EPYC) : un modèle intégré propre au capteur a fusionné chaque scène de développement (jusqu'à 128 × 128 pixels HR et 218 bandes) en 0.1–3.5 s, projection sur les entrées comprise (docs/benchmark.md) ; un modèle générique fusionne une HR-MSI de 300 × 300 pixels avec une LR-HSI de 100 × 100 pixels et 200 bandes (rapport 3) en 15–20 s environ (docs/methods.md) ; l'entraînement sur les entrées avec les 300 itérations par défaut a pris 1–4 minutes environ sur la scène EnMAP de 128 × 128 pixels (docs/benchmark.md). La durée croît avec le nombre de pixels et de bandes HS. Sur un GPU (DEVICE = cuda) : pas encore mesuré.</translation>
    </message>
    <message>
        <location filename="../algorithms/fusion.py" line="109"/>
        <source>{paper}. How HyperFuse implements it, and where it departs from the paper: docs/methods.md.</source>
        <translation>{paper}. Mise en œuvre dans HyperFuse, et écarts par rapport à l'article : docs/methods.md.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="55"/>
        <source>Low-resolution hyperspectral raster (S bands). Its grid must line up with the HR-MSI: the LR pixel is an integer multiple r ≥ 2 of the HR pixel, from an origin on the HR grid.</source>
        <translation>Raster hyperspectral basse résolution (S bandes). Sa grille doit être alignée sur celle de la HR-MSI : le pixel LR est un multiple entier r ≥ 2 du pixel HR, à partir d'une origine située sur la grille HR.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="58"/>
        <source>High-resolution multispectral raster (s &lt; S bands) of the same scene.</source>
        <translation>Raster multispectral haute résolution (s &lt; S bandes) de la même scène.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="68"/>
        <source>An LR-HSI and an HR-MSI of the same scene, in any band counts, as rasters GDAL can read: the LR pixel is an integer multiple r ≥ 2 of the HR pixel, on a grid that starts on the HR grid; only their common area is fused. Values are read in physical units (scale and offset applied); nodata, NaN and Inf are masked.</source>
        <translation>Une LR-HSI et une HR-MSI de la même scène, avec des nombres de bandes quelconques, sous forme de rasters lisibles par GDAL : le pixel LR est un multiple entier r ≥ 2 du pixel HR, sur une grille qui commence sur la grille HR ; seule leur zone commune est fusionnée. Les valeurs sont lues en unités physiques (facteur d'échelle et décalage appliqués) ; nodata, NaN et Inf sont masqués.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="73"/>
        <source>Fused high-resolution hyperspectral GeoTIFF (float32) on the HR-MSI grid, with the LR-HSI&apos;s band names and wavelengths. Pixels invalid in either input are nodata (-9999).</source>
        <translation>GeoTIFF hyperspectral haute résolution fusionné (float32) sur la grille de la HR-MSI, avec les noms de bandes et les longueurs d'onde de la LR-HSI. Les pixels invalides dans l'une ou l'autre entrée sont nodata (-9999).</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="79"/>
        <source>both observations: every block of the result is replaced by the nearest image that, blurred by the PSF and decimated, gives back the LR-HSI and, through the spectral responses, gives back the HR-MSI. The responses are estimated from the pair; the PSF is the Gaussian of PROJECTION_MTF_GAIN. It corrects what a method gets wrong about these inputs (docs/benchmark.md) and adds a few seconds. none: the method&apos;s result as it is. The log reports how far the result is from reproducing the inputs, before and after.</source>
        <translation>les deux observations : chaque bloc du résultat est remplacé par l'image la plus proche qui, floutée par la PSF et décimée, redonne la LR-HSI et, à travers les réponses spectrales, redonne la HR-MSI. Les réponses sont estimées à partir de la paire ; la PSF est la gaussienne de PROJECTION_MTF_GAIN. La projection corrige ce qu'une méthode rend mal sur ces entrées (docs/benchmark.md) et ajoute quelques secondes. aucune : le résultat de la méthode tel quel. Le journal indique, avant et après, dans quelle mesure le résultat s'écarte de la reproduction des entrées.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="86"/>
        <source>Before fusing, fine-tune the model on the pair itself for this many steps: the fused result, blurred by the PSF and decimated, should give back the LR-HSI, and through the spectral responses the HR-MSI (the same responses and PSF as the projection). 0, the default, skips it: followed by the projection it changed the bundled models&apos; PSNR by -0.31 to +0.04 dB on the development scenes, at up to 5 minutes for 100 steps on 218 bands (docs/methods.md). Each step costs about as much as a training step.</source>
        <translation>Avant la fusion, affine le modèle sur la paire elle-même pendant ce nombre d'itérations : le résultat fusionné, flouté par la PSF et décimé, doit redonner la LR-HSI, et à travers les réponses spectrales la HR-MSI (mêmes réponses et même PSF que la projection). 0, la valeur par défaut, l'omet : suivi de la projection, il a modifié le PSNR des modèles intégrés de -0.31 à +0.04 dB sur les scènes de développement, pour un coût allant jusqu'à 5 minutes pour 100 itérations sur 218 bandes (docs/methods.md). Chaque itération coûte à peu près autant qu'une itération d'entraînement.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="93"/>
        <source>Response of the Gaussian PSF at the LR Nyquist frequency that the projection assumes: 0.25, the protocol&apos;s, unless the sensor&apos;s is known (hyperfuse:estimate_responses estimates it from the pair).</source>
        <translation>Réponse de la PSF gaussienne à la fréquence de Nyquist LR que suppose la projection : 0.25, celle du protocole, sauf si celle du capteur est connue (hyperfuse:estimate_responses l'estime à partir de la paire).</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="108"/>
        <source>auto: the GPU when PyTorch sees a CUDA GPU, else the CPU; cpu: the CPU; cuda: the GPU (refused when PyTorch sees none).</source>
        <translation>auto : le GPU quand PyTorch voit un GPU CUDA, sinon le CPU ; cpu : le CPU ; cuda : le GPU (refusé quand PyTorch n'en voit aucun).</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="24"/>
        <source>Integer resolution ratio r ≥ 2 between the LR and HR pixel sizes.</source>
        <translation>Rapport de résolution entier r ≥ 2 entre les tailles de pixel LR et HR.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="25"/>
        <source>Spectral responses of the simulated MS sensor: a preset ({presets}), each of which names its source in OUTPUT_SRF, or {csv_file}, the responses read from SRF_FILE.</source>
        <translation>Réponses spectrales du capteur MS simulé : un préréglage ({presets}), chacun indiquant sa source dans OUTPUT_SRF, ou {csv_file}, les réponses lues dans SRF_FILE.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="30"/>
        <source>CSV of spectral responses for SRF = CSV file (SRF_FILE): a &apos;wavelength_nm&apos; column, then one column per MS band named in the header; lines starting with # are comments.</source>
        <translation>CSV des réponses spectrales pour SRF = Fichier CSV (SRF_FILE) : une colonne 'wavelength_nm', puis une colonne par bande MS nommée dans l'en-tête ; les lignes commençant par # sont des commentaires.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="33"/>
        <source>Optional subset of the sensor&apos;s bands, by name, e.g. B2,B3,B4,B8. Empty keeps every band.</source>
        <translation>Sous-ensemble facultatif des bandes du capteur, par nom, p. ex. B2,B3,B4,B8. Vide : toutes les bandes sont gardées.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="35"/>
        <source>Point-spread function of the spatial degradation: {gaussian}: the Gaussian whose response at the LR Nyquist frequency is MTF_GAIN, centred on the LR pixel centre; {box}: the mean over the r × r HR pixels of each LR pixel (the MHF-net protocol); {kernel}: a kernel read from PSF_FILE.</source>
        <translation>Fonction d'étalement du point de la dégradation spatiale : {gaussian} : la gaussienne dont la réponse à la fréquence de Nyquist LR vaut MTF_GAIN, centrée sur le centre du pixel LR ; {box} : la moyenne sur les r × r pixels HR de chaque pixel LR (le protocole de MHF-net) ; {kernel} : un noyau lu dans PSF_FILE.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="40"/>
        <source>Response of the Gaussian PSF at the LR Nyquist frequency (0 &lt; g &lt; 1); σ = r·sqrt(−2 ln g)/π HR pixels. 0.25 is typical of real sensors.</source>
        <translation>Réponse de la PSF gaussienne à la fréquence de Nyquist LR (0 &lt; g &lt; 1) ; σ = r·sqrt(−2 ln g)/π pixels HR. 0.25 est typique des capteurs réels.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="43"/>
        <source>CSV kernel for PSF = Kernel file (PSF_FILE): a square matrix of non-negative weights in HR pixels, one row per line, with a size of the same parity as RATIO so it centres on the LR pixel centre.</source>
        <translation>Noyau CSV pour PSF = Fichier de noyau (PSF_FILE) : une matrice carrée de poids positifs ou nuls en pixels HR, une ligne de matrice par ligne de fichier, de taille de même parité que RATIO pour qu'il soit centré sur le centre du pixel LR.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="47"/>
        <source>Signal-to-noise ratio of white Gaussian noise added to the LR-HSI, in dB; 0 adds none.</source>
        <translation>Rapport signal sur bruit d'un bruit blanc gaussien ajouté à la LR-HSI, en dB ; 0 n'en ajoute pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="49"/>
        <source>Signal-to-noise ratio of white Gaussian noise added to the HR-MSI, in dB; 0 adds none.</source>
        <translation>Rapport signal sur bruit d'un bruit blanc gaussien ajouté à la HR-MSI, en dB ; 0 n'en ajoute pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="51"/>
        <source>Band centre wavelengths (nm) for an input without wavelength metadata: a comma-separated list, or the path of a CSV holding one value per band.</source>
        <translation>Longueurs d'onde centrales des bandes (nm) pour une entrée sans métadonnées de longueur d'onde : une liste séparée par des virgules, ou le chemin d'un CSV contenant une valeur par bande.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="108"/>
        <source>Builds a test pair from a reference hyperspectral raster by the protocol every HyperFuse number follows: the LR-HSI is the reference blurred by a Gaussian PSF and decimated by RATIO; the HR-MSI is the reference seen through the spectral responses of an MS sensor. The reference is cropped to a multiple of RATIO, and the LR grid is the HR grid with the pixel size multiplied by RATIO from the same origin, so the outputs feed any fusion algorithm and then Quality assessment.</source>
        <translation>Construit une paire de test à partir d'un raster hyperspectral de référence selon le protocole que suit chaque résultat chiffré de HyperFuse : la LR-HSI est la référence floutée par une PSF gaussienne et décimée d'un facteur RATIO ; la HR-MSI est la référence vue à travers les réponses spectrales d'un capteur MS. La référence est recadrée à un multiple de RATIO, et la grille LR est la grille HR dont la taille de pixel est multipliée par RATIO à partir de la même origine : les sorties alimentent ainsi n'importe quel algorithme de fusion, puis Évaluation de la qualité.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="115"/>
        <source>A reference high-resolution hyperspectral raster with per-band wavelength metadata (or WAVELENGTHS); for SRF = CSV file (SRF_FILE), a CSV of spectral responses; for PSF = Kernel file (PSF_FILE), a CSV kernel.</source>
        <translation>Un raster hyperspectral haute résolution de référence avec des métadonnées de longueur d'onde par bande (ou WAVELENGTHS) ; pour SRF = Fichier CSV (SRF_FILE), un CSV de réponses spectrales ; pour PSF = Fichier de noyau (PSF_FILE), un noyau en CSV.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="119"/>
        <source>OUTPUT_LR_HSI, the simulated LR-HSI; OUTPUT_HR_MSI, the simulated HR-MSI; OUTPUT_REFERENCE, the reference cropped to a multiple of RATIO (all GeoTIFFs on grids that line up); optionally OUTPUT_SRF, the spectral response matrix R as CSV.</source>
        <translation>OUTPUT_LR_HSI, la LR-HSI simulée ; OUTPUT_HR_MSI, la HR-MSI simulée ; OUTPUT_REFERENCE, la référence recadrée à un multiple de RATIO (tous des GeoTIFF sur des grilles alignées) ; en option OUTPUT_SRF, la matrice des réponses spectrales R en CSV.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="123"/>
        <source>Wald&apos;s protocol: L. Wald, T. Ranchin, M. Mangolini, Fusion of satellite images of different spatial resolutions: assessing the quality of resulting images, PE&amp;RS 63(6), 1997. The Gaussian PSF is set by its MTF gain at the LR Nyquist frequency, as in B. Aiazzi et al., MTF-tailored multiscale fusion of high-resolution MS and Pan imagery, PE&amp;RS 72(5), 2006. The rules as implemented: docs/protocol.md.</source>
        <translation>Protocole de Wald : L. Wald, T. Ranchin, M. Mangolini, Fusion of satellite images of different spatial resolutions: assessing the quality of resulting images, PE&amp;RS 63(6), 1997. La PSF gaussienne est fixée par son gain MTF à la fréquence de Nyquist LR, comme dans B. Aiazzi et al., MTF-tailored multiscale fusion of high-resolution MS and Pan imagery, PE&amp;RS 72(5), 2006. Les règles telles qu'elles sont mises en œuvre : docs/protocol.md.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="129"/>
        <source>About 1.3 s for the 128 × 128-pixel, 224-band EnMAP development scene at ratio 3 (measured once on 2 CPU cores shared with another job). Time grows with the number of pixels and of bands. It runs on the CPU only (NumPy), never on a GPU.</source>
        <translation>Environ 1.3 s pour la scène de développement EnMAP (128 × 128 pixels, 224 bandes) au rapport 3 (mesuré une fois sur 2 cœurs CPU partagés avec une autre tâche). La durée croît avec le nombre de pixels et de bandes. L'algorithme s'exécute uniquement sur le CPU (NumPy), jamais sur un GPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="134"/>
        <source>Reference high-resolution hyperspectral raster with per-band &apos;wavelength&apos; metadata.</source>
        <translation>Raster hyperspectral haute résolution de référence, avec des métadonnées 'wavelength' par bande.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="137"/>
        <source>Seed of the noise generator: the same seed gives the same output bit for bit.</source>
        <translation>Graine du générateur de bruit : la même graine donne la même sortie, bit pour bit.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="139"/>
        <source>Simulated low-resolution hyperspectral raster.</source>
        <translation>Raster hyperspectral basse résolution simulé.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="140"/>
        <source>Simulated high-resolution multispectral raster, bands named like &apos;B4 (665 nm)&apos;.</source>
        <translation>Raster multispectral haute résolution simulé, aux bandes nommées comme 'B4 (665 nm)'.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="142"/>
        <source>The reference cropped to a multiple of RATIO: compare fusions with this one.</source>
        <translation>La référence recadrée à un multiple de RATIO : c'est à elle qu'il faut comparer les fusions.</translation>
    </message>
    <message>
        <location filename="../algorithms/simulate.py" line="144"/>
        <source>Optional CSV of the s × S spectral response matrix R used (rows MS bands, columns HS bands).</source>
        <translation>CSV facultatif de la matrice des réponses spectrales R (s × S) utilisée (lignes : bandes MS, colonnes : bandes HS).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="29"/>
        <source>{help} Used in the self-supervised mode.</source>
        <translation>{help} Utilisé en mode auto-supervisé.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="41"/>
        <source>Trains one of the five fusion networks and writes a weights file that any HyperFuse fusion algorithm of the same method loads with MODEL = weights file. Training data are either a real LR-HSI/HR-MSI pair (self-supervised by Wald&apos;s protocol: both are degraded by the ratio and the network learns to restore the LR-HSI) or a reference HR-HSI from which the inputs are simulated with the settings of Simulate degradation. The last part of the data (VALIDATION_FRACTION of the longer side) is held out: it is checked every few steps, the best weights are kept, and training stops early when it no longer improves. The weights file carries a model card (method, settings, bands and wavelengths, ratio, data, validation metrics, seed, plugin version, date); OUTPUT_LOG shows the loss and validation curves. Requires PyTorch.</source>
        <translation>Entraîne l'un des cinq réseaux de fusion et écrit un fichier de poids que tout algorithme de fusion HyperFuse de la même méthode charge avec MODEL = fichier de poids. Les données d'entraînement sont soit une paire LR-HSI/HR-MSI réelle (auto-supervision selon le protocole de Wald : les deux sont dégradées du rapport de résolution et le réseau apprend à restituer la LR-HSI), soit une HR-HSI de référence dont les entrées sont simulées avec les réglages de Simuler la dégradation. La dernière partie des données (VALIDATION_FRACTION du côté le plus long) est mise de côté : elle est évaluée toutes les quelques itérations, les meilleurs poids sont conservés et l'entraînement s'arrête tôt quand il ne progresse plus. Le fichier de poids porte une fiche de modèle (méthode, réglages, bandes et longueurs d'onde, rapport, données, métriques de validation, graine, version de l'extension, date) ; OUTPUT_LOG montre les courbes de perte et de validation. Nécessite PyTorch.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="52"/>
        <source>Self-supervised mode: a real LR-HSI and HR-MSI of the same scene (LR_HSI, HR_MSI). Supervised mode: a reference HR-HSI with wavelength metadata (REFERENCE), from which the inputs are simulated as Simulate degradation does. Optionally weights of the same method, bands and ratio to fine-tune (INIT_WEIGHTS).</source>
        <translation>Mode auto-supervisé : une LR-HSI et une HR-MSI réelles de la même scène (LR_HSI, HR_MSI). Mode supervisé : une HR-HSI de référence avec métadonnées de longueur d'onde (REFERENCE), à partir de laquelle les entrées sont simulées comme le fait Simuler la dégradation. En option, des poids de la même méthode, pour les mêmes bandes et le même rapport, à affiner (INIT_WEIGHTS).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="57"/>
        <source>OUTPUT_WEIGHTS: the weights file with its model card, for MODEL = weights file of the fusion algorithms; optionally OUTPUT_LOG, an HTML training log; VALIDATION_PSNR and VALIDATION_SAM of the weights kept, and STEPS_RUN.</source>
        <translation>OUTPUT_WEIGHTS : le fichier de poids avec sa fiche de modèle, pour MODEL = fichier de poids des algorithmes de fusion ; en option OUTPUT_LOG, un journal d'entraînement HTML ; VALIDATION_PSNR et VALIDATION_SAM des poids retenus, et STEPS_RUN.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="61"/>
        <source>Self-supervised mode: Wald&apos;s protocol (L. Wald, T. Ranchin, M. Mangolini, PE&amp;RS 63(6), 1997). Each network&apos;s paper is in its fusion algorithm&apos;s help; the training settings and where they depart from the papers: docs/methods.md and docs/training.md. Optimiser: Adam (D. P. Kingma, J. Ba, ICLR, 2015).</source>
        <translation>Mode auto-supervisé : protocole de Wald (L. Wald, T. Ranchin, M. Mangolini, PE&amp;RS 63(6), 1997). L'article de chaque réseau figure dans l'aide de son algorithme de fusion ; les réglages d'entraînement et leurs écarts par rapport aux articles : docs/methods.md et docs/training.md. Optimiseur : Adam (D. P. Kingma, J. Ba, ICLR, 2015).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="66"/>
        <source>Measured on 2 CPU threads (AMD EPYC): DeepSen3's 300 steps took 74 s self-supervised on the 90 × 90-pixel AVIRIS scene and 138 s supervised on half of the 218-band EnMAP scene (docs/benchmark_training.md). The networks differ per step: MHF-net's 400 steps took about 25 minutes on two cores shared with other jobs (docs/methods.md). TIME_BUDGET_MINUTES caps a run. On a GPU (DEVICE = cuda): not yet measured.</source>
        <translation>Mesuré sur 2 threads CPU (AMD EPYC) : les 300 itérations de DeepSen3 ont pris 74 s en auto-supervisé sur la scène AVIRIS de 90 × 90 pixels et 138 s en supervisé sur la moitié de la scène EnMAP de 218 bandes (docs/benchmark_training.md). Le coût d'une itération dépend du réseau : les 400 itérations de MHF-net ont pris environ 25 minutes sur deux cœurs partagés avec d'autres tâches (docs/methods.md). TIME_BUDGET_MINUTES plafonne une exécution. Sur un GPU (DEVICE = cuda) : pas encore mesuré.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="73"/>
        <source>Network to train: {methods}.</source>
        <translation>Réseau à entraîner : {methods}.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="75"/>
        <source>{self_supervised}: both inputs are degraded by the ratio, read from their grids, and the network learns to restore the LR-HSI; {supervised}: the network learns to fuse inputs simulated from REFERENCE by RATIO, SRF, PSF … (as in Simulate degradation) back into it.</source>
        <translation>{self_supervised} : les deux entrées sont dégradées du rapport de résolution, lu sur leurs grilles, et le réseau apprend à restituer la LR-HSI ; {supervised} : le réseau apprend à reconstituer REFERENCE en fusionnant des entrées simulées à partir d'elle selon RATIO, SRF, PSF … (comme dans Simuler la dégradation).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="82"/>
        <source>High-resolution hyperspectral raster with wavelength metadata (supervised mode). The model learns to fuse the inputs simulated from it back into it.</source>
        <translation>Raster hyperspectral haute résolution avec métadonnées de longueur d'onde (mode supervisé). Le modèle apprend à le reconstituer en fusionnant les entrées simulées à partir de lui.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="85"/>
        <source>{help} (Supervised mode only.)</source>
        <translation>{help} (Mode supervisé uniquement.)</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="88"/>
        <source>{help} In both modes: the PSF of the simulation (supervised) or of Wald&apos;s degradation (self-supervised).</source>
        <translation>{help} Dans les deux modes : la PSF de la simulation (supervisé) ou de la dégradation de Wald (auto-supervisé).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="91"/>
        <source>Largest number of optimiser steps; training may stop earlier (PATIENCE, TIME_BUDGET_MINUTES).</source>
        <translation>Nombre maximal d'itérations de l'optimiseur ; l'entraînement peut s'arrêter plus tôt (PATIENCE, TIME_BUDGET_MINUTES).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="94"/>
        <source>Patches per step; 0 uses the method&apos;s default ({defaults}).</source>
        <translation>Imagettes par itération ; 0 prend la valeur par défaut de la méthode ({defaults}).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="96"/>
        <source>Side of the training patches in HR pixels; 0 uses the method&apos;s default ({defaults}).</source>
        <translation>Côté des imagettes d'entraînement en pixels HR ; 0 prend la valeur par défaut de la méthode ({defaults}).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="99"/>
        <source>Adam learning rate; 0 uses the method&apos;s default ({defaults}), or a tenth of it when fine-tuning INIT_WEIGHTS.</source>
        <translation>Taux d'apprentissage d'Adam ; 0 prend la valeur par défaut de la méthode ({defaults}), ou son dixième quand on affine INIT_WEIGHTS.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="103"/>
        <source>Stop after this many minutes and keep the best weights so far; 0 sets no limit.</source>
        <translation>Arrêter après ce nombre de minutes en gardant les meilleurs poids obtenus ; 0 ne fixe aucune limite.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="105"/>
        <source>Seed of patch sampling, initialisation and simulated noise: the same seed and inputs give the same weights on the CPU.</source>
        <translation>Graine du tirage des imagettes, de l'initialisation et du bruit simulé : la même graine et les mêmes entrées donnent les mêmes poids sur le CPU.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="109"/>
        <source>Optional weights file of the same method, bands and ratio to fine-tune instead of starting from scratch; its settings and band statistics are kept.</source>
        <translation>Fichier de poids facultatif de la même méthode, pour les mêmes bandes et le même rapport, à affiner au lieu de partir de zéro ; ses réglages et ses statistiques de bandes sont conservés.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="112"/>
        <source>Part of the data held out for validation, taken from the end of the longer side in whole LR pixels; 0 validates on the training data (no over-fitting check).</source>
        <translation>Part des données mise de côté pour la validation, prise à la fin du côté le plus long, en pixels LR entiers ; 0 valide sur les données d'entraînement (sans contrôle du surapprentissage).</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="115"/>
        <source>Steps between validation checks; 0 checks about twenty times per run.</source>
        <translation>Itérations entre deux validations ; 0 valide une vingtaine de fois par exécution.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="117"/>
        <source>Validation checks without a better PSNR before training stops; 0 never stops early.</source>
        <translation>Nombre de validations sans meilleur PSNR avant l'arrêt de l'entraînement ; 0 ne l'arrête jamais tôt.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="119"/>
        <source>({method} only) {help}</source>
        <translation>({method} uniquement) {help}</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="122"/>
        <source>Self-supervised mode only: after training at reduced resolution, fine-tune the model on LR_HSI and HR_MSI themselves for this many steps, so that its result, blurred and decimated, gives back the LR-HSI and, through the spectral responses estimated from the pair, the HR-MSI (as ADAPT_STEPS of the fusion algorithms). The model card records the consistency before and after. 0, the default, skips it.</source>
        <translation>Mode auto-supervisé uniquement : après l'entraînement à résolution réduite, affine le modèle sur LR_HSI et HR_MSI elles-mêmes pendant ce nombre d'itérations, pour que son résultat, flouté et décimé, redonne la LR-HSI et, à travers les réponses spectrales estimées à partir de la paire, la HR-MSI (comme ADAPT_STEPS des algorithmes de fusion). La fiche de modèle enregistre la cohérence avant et après. 0, la valeur par défaut, l'omet.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="128"/>
        <source>The weights file (.pt) with its model card, written only when training completes.</source>
        <translation>Le fichier de poids (.pt) avec sa fiche de modèle, écrit seulement quand l'entraînement se termine.</translation>
    </message>
    <message>
        <location filename="../algorithms/train.py" line="130"/>
        <source>Optional HTML log: loss curve, validation curve and metrics against bicubic, model card.</source>
        <translation>Journal HTML facultatif : courbe de perte, courbe de validation et métriques comparées au bicubique, fiche de modèle.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>An LSTM reads, for every HR pixel, a sequence of concentric patches (padding factor κ, scalability number η) of the HR-MSI and the up-sampled LR-HSI's leading SVD components, from the smallest patch to the largest, and regresses the pixel's HR components; the spectrum is restored from the SVD basis. RMSE loss.</source>
        <translation>Un LSTM lit, pour chaque pixel HR, une suite d'imagettes concentriques (facteur de marge κ, nombre d'échelles η) de la HR-MSI et des premières composantes SVD de la LR-HSI suréchantillonnée, de la plus petite imagette à la plus grande, et prédit par régression les composantes HR du pixel ; le spectre est reconstruit à partir de la base SVD. Perte RMSE.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Pixels cropped from every side of the patch from one sequence step to the next. PATCH − 2·κ·(η − 1) must be at least 2.</source>
        <translation>Pixels retirés de chaque côté de l'imagette d'un pas de la séquence au suivant. PATCH − 2·κ·(η − 1) doit valoir au moins 2.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Concentric patches in each pixel's sequence (the paper's best: 3–4).</source>
        <translation>Imagettes concentriques dans la séquence de chaque pixel (le meilleur réglage de l'article : 3–4).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Side of the largest concentric patch A₀ (the paper's best: 8–20).</source>
        <translation>Côté de la plus grande imagette concentrique A₀ (le meilleur réglage de l'article : 8–20).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>Leading SVD components of the spectra the network predicts (the paper uses 6–20); 0 keeps min(12, HS bands).</source>
        <translation>Premières composantes SVD des spectres que le réseau prédit (l'article en utilise 6–20) ; 0 en garde min(12, bandes HS).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="138"/>
        <source>paper: concentric patches, linear head: every crop keeps its spatial content (area-resampled to the smallest crop, one shared linear encoder), LSTM, linear regression head. box means with bicubic residual: the network of the earlier bundled models (crop means, 256-unit ReLU layer, bicubic plus a correction).</source>
        <translation>article : imagettes concentriques, tête linéaire : chaque découpe garde son contenu spatial (rééchantillonnée par moyenne de surface à la taille de la plus petite, un encodeur linéaire partagé), LSTM, tête de régression linéaire. moyennes par fenêtre avec résidu bicubique : le réseau des modèles intégrés précédents (moyennes des découpes, couche ReLU de 256 unités, bicubique plus une correction).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="184"/>
        <source>Starts from the bicubic LR-HSI and corrects it iteratively: learned spectral and spatial degradation blocks predict the HR-MSI and the LR-HSI, their error maps are fused with channel attention and reconstructed into a correction with spatial and spectral attention (Z¹ = Z⁰ + Ê¹, then Z²). L1 loss.</source>
        <translation>Part de la LR-HSI suréchantillonnée en bicubique et la corrige de façon itérative : des blocs appris de dégradation spectrale et spatiale prédisent la HR-MSI et la LR-HSI, leurs cartes d'erreur sont fusionnées par une attention sur les canaux puis reconstruites en une correction avec attention spatiale et spectrale (Z¹ = Z⁰ + Ê¹, puis Z²). Perte L1.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="184"/>
        <source>Spatial-spectral corrections Z^k → Z^(k+1) (the paper: two beat one by 1.4 dB).</source>
        <translation>Corrections spatio-spectrales Z^k → Z^(k+1) (dans l'article, deux font mieux qu'une de 1.4 dB).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Unfolds a proximal-gradient algorithm for the model X = YA + ŶB into K stages with learned down-sampling, up-sampling and ResNet proximal operators, followed by a ResNet; loss of eq. 24 with per-stage terms.</source>
        <translation>Déplie un algorithme de gradient proximal pour le modèle X = YA + ŶB en K étages, avec sous-échantillonnage, suréchantillonnage et opérateurs proximaux ResNet appris, suivis d'un ResNet ; perte de l'éq. 24 avec des termes par étage.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Unfolded proximal-gradient stages (the paper finds 13 best; 8 keeps CPU training practical). More stages also widen the halo read around each block.</source>
        <translation>Étages dépliés du gradient proximal (13 est le meilleur choix selon l'article ; 8 garde l'entraînement sur CPU praticable). Plus d'étages élargissent aussi le halo lu autour de chaque bloc.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Rank of X = YA + ŶB: MS bands plus the number of learned bases Ŷ; 0 uses MS bands + 9 (the authors' code's 12 for 3 MS bands; the paper gives no value), at most the HS band count.</source>
        <translation>Rang de X = YA + ŶB : le nombre de bandes MS plus le nombre de bases apprises Ŷ ; 0 prend bandes MS + 9 (les 12 du code des auteurs pour 3 bandes MS ; l'article ne donne pas de valeur), au plus le nombre de bandes HS.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="205"/>
        <source>Residual units in every proximal ResNet and in the final ResNet (the paper&apos;s L; its Table 1 finds (K, L) = (13, 2) best). Each level adds about 3 HR pixels per stage to the halo read around each block, and training time.</source>
        <translation>Unités résiduelles de chaque ResNet proximal et du ResNet final (le L de l'article ; son tableau 1 donne (K, L) = (13, 2) comme meilleur choix). Chaque niveau ajoute environ 3 pixels HR par étage au halo lu autour de chaque bloc, ainsi que du temps d'entraînement.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="234"/>
        <source>A spectral pathway up-samples the LR-HSI one scale at a time while a spatial pathway max-pools the HR-MSI; features of equal size are stacked at every scale; multi-level MSE losses supervise intermediate resolutions.</source>
        <translation>Une voie spectrale suréchantillonne la LR-HSI une échelle à la fois tandis qu'une voie spatiale applique un max-pooling à la HR-MSI ; les caractéristiques de même taille sont empilées à chaque échelle ; des pertes MSE multi-niveaux supervisent les résolutions intermédiaires.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="234"/>
        <source>Levels of the multi-level loss: 1 trains on the final output only; L adds L − 1 intermediate resolutions (needs a ratio with several prime factors, e.g. 4, 8, 16).</source>
        <translation>Niveaux de la perte multi-niveaux : 1 entraîne sur la seule sortie finale ; L ajoute L − 1 résolutions intermédiaires (nécessite un rapport ayant plusieurs facteurs premiers, p. ex. 4, 8, 16).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="250"/>
        <source>Bicubic-upsampled LR-HSI stacked with the HR-MSI, three multi-scale inception residual modules (3×3 and 5×5 branches) and a global residual; MSE loss.</source>
        <translation>LR-HSI suréchantillonnée en bicubique empilée avec la HR-MSI, trois modules résiduels inception multi-échelles (branches 3×3 et 5×5) et un résidu global ; perte MSE.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="271"/>
        <source>0 (the default) estimates σ from the inputs (core/protocol/responses.py)</source>
        <translation>0 (la valeur par défaut) estime σ à partir des entrées (core/protocol/responses.py)</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="271"/>
        <source>0 estimates σ from the inputs (core/protocol/responses.py); {default:g} is the protocol's default</source>
        <translation>0 estime σ à partir des entrées (core/protocol/responses.py) ; {default:g} est la valeur par défaut du protocole</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="276"/>
        <source>Response of the Gaussian PSF at the LR Nyquist frequency, σ = r·sqrt(−2 ln g)/π HR pixels; {note}.</source>
        <translation>Réponse de la PSF gaussienne à la fréquence de Nyquist LR, σ = r·sqrt(−2 ln g)/π pixels HR ; {note}.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="282"/>
        <source>Up-samples the LR-HSI, ignoring the HR-MSI: the baseline every method must beat.</source>
        <translation>Suréchantillonne la LR-HSI en ignorant la HR-MSI : la base de comparaison que toute méthode doit battre.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="288"/>
        <source>Component substitution: each MS band sharpens the HS bands of its group; the intensity is the non-negative regression of the group&apos;s up-sampled HS bands on the degraded MS band, and each HS band gets the detail with the gain cov(HS, I)/var(I).</source>
        <translation>Substitution de composantes : chaque bande MS affine les bandes HS de son groupe ; l'intensité est la régression positive des bandes HS suréchantillonnées du groupe sur la bande MS dégradée, et chaque bande HS reçoit le détail avec le gain cov(HS, I)/var(I).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="297"/>
        <source>Multi-resolution analysis: each HS band is modulated by the ratio of its group&apos;s MS band to that band&apos;s low-pass (MTF-matched Gaussian, or a box for SFIM), decimated and interpolated back.</source>
        <translation>Analyse multirésolution : chaque bande HS est modulée par le rapport entre la bande MS de son groupe et le passe-bas de cette bande (gaussienne ajustée à la MTF, ou moyenne uniforme pour SFIM), décimé puis réinterpolé.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="297"/>
        <source>MTF-matched Gaussian (MTF-GLP): the Gaussian whose response at the LR Nyquist frequency is MTF_GAIN (MTF-GLP-HS); Box r × r (SFIM): the r × r box average (SFIM-HS).</source>
        <translation>Gaussienne ajustée à la MTF (MTF-GLP) : la gaussienne dont la réponse à la fréquence de Nyquist LR vaut MTF_GAIN (MTF-GLP-HS) ; Moyenne r × r (SFIM) : la moyenne uniforme sur r × r pixels (SFIM-HS).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Alternating non-negative unmixing of both images with shared endmembers (MS endmembers = R × HS endmembers) and abundances coupled through the PSF; fused = HS endmembers × HR abundances.</source>
        <translation>Démélange non négatif alterné des deux images avec des pôles purs partagés (pôles purs MS = R × pôles purs HS) et des abondances couplées par la PSF ; image fusionnée = pôles purs HS × abondances HR.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Number of endmembers M of the unmixing (initialised by the successive projection algorithm); more capture more materials but take longer.</source>
        <translation>Nombre M de pôles purs du démélange (initialisés par l'algorithme des projections successives) ; davantage de pôles purs capturent plus de matériaux mais prennent plus de temps.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Multiplicative-update iterations of each NMF step (the paper runs to convergence).</source>
        <translation>Itérations de mise à jour multiplicative de chaque étape de NMF (l'article va jusqu'à convergence).</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="319"/>
        <source>Rounds of MS unmixing then HS unmixing that couple the two factorisations.</source>
        <translation>Cycles de démélange MS puis HS qui couplent les deux factorisations.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Convex fusion in a p-dimensional spectral subspace with vector-total-variation regularisation, solved by ADMM with FFT-based steps.</source>
        <translation>Fusion convexe dans un sous-espace spectral de dimension p avec régularisation par variation totale vectorielle, résolue par ADMM avec des étapes fondées sur la FFT.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Dimension of the spectral subspace (SVD of the LR-HSI). 0 uses the number of MS bands, so that the HR-MSI observes every coefficient at high resolution; larger p keeps more spectral detail, reconstructed from the LR-HSI with the TV prior alone.</source>
        <translation>Dimension du sous-espace spectral (SVD de la LR-HSI). 0 prend le nombre de bandes MS, pour que la HR-MSI observe chaque coefficient à haute résolution ; un p plus grand garde plus de détail spectral, reconstruit à partir de la LR-HSI avec le seul a priori TV.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Weight of the vector total variation, for data scaled to a mean of 1: larger values give smoother, less noisy results.</source>
        <translation>Poids de la variation totale vectorielle, pour des données ramenées à une moyenne de 1 : des valeurs plus grandes donnent des résultats plus lisses et moins bruités.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Weight of the HR-MSI fit relative to the LR-HSI fit.</source>
        <translation>Poids de l'ajustement à la HR-MSI par rapport à l'ajustement à la LR-HSI.</translation>
    </message>
    <message>
        <location filename="../core/registry.py" line="342"/>
        <source>Iterations of the ADMM solver (each costs eight FFTs of p bands).</source>
        <translation>Itérations du solveur ADMM (chacune coûte huit FFT de p bandes).</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="71"/>
        <source>OUTPUT: {output}</source>
        <translation>OUTPUT : {output}</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="33"/>
        <source>{metric}: {help}</source>
        <translation>{metric} : {help}</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="86"/>
        <source>JSON file with all metrics, per-band tables, excluded bands and the ranking; a temporary file unless a path is given.</source>
        <translation>Fichier JSON avec toutes les métriques, les tableaux par bande, les bandes exclues et le classement ; un fichier temporaire si aucun chemin n'est donné.</translation>
    </message>
    <message>
        <location filename="../algorithms/assess.py" line="92"/>
        <source>Self-contained HTML report: ranking table, per-band PSNR and SSIM against wavelength, SAM and error maps, and reference against fused spectra; a temporary file unless a path is given, listed in the Results Viewer.</source>
        <translation>Rapport HTML autonome : tableau de classement, PSNR et SSIM par bande en fonction de la longueur d'onde, cartes de SAM et d'erreur, et spectres de référence comparés aux spectres fusionnés ; un fichier temporaire si aucun chemin n'est donné, listé dans la visionneuse de résultats.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="59"/>
        <source>Side of the square blocks processed at a time, in HR pixels (rounded to whole LR pixels, or to the alignment a network&apos;s strided layers need). 0, the default, sizes the blocks from the available memory and from the working memory measured on a small trial block (at most 768 MiB per block): the largest square blocks that fit, or strips as wide as the area where those recompute less halo; the log says which. A network runs down such strips in steps that keep the rows the next strip needs, so a strip recomputes only its steps&apos; margins. Smaller blocks need less memory, larger ones recompute less halo; the result does not depend on it.</source>
        <translation>Côté des blocs carrés traités à la fois, en pixels HR (arrondi à un nombre entier de pixels LR, ou à l'alignement qu'exigent les couches à pas (stride) d'un réseau). 0, la valeur par défaut, dimensionne les blocs d'après la mémoire disponible et la mémoire de travail mesurée sur un petit bloc d'essai (au plus 768 Mio par bloc) : les plus grands blocs carrés qui y tiennent, ou des bandes aussi larges que la zone là où elles recalculent moins de bordure ; le journal indique lequel. Un réseau parcourt ces bandes par étapes qui gardent les lignes dont la bande suivante a besoin, si bien qu'une bande ne recalcule que les marges de ses étapes. Des blocs plus petits demandent moins de mémoire, des blocs plus grands recalculent moins de bordure ; le résultat n'en dépend pas.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="50"/>
        <source>Dask scheduler (empty = this process)</source>
        <translation>Ordonnanceur Dask (vide = ce processus)</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="97"/>
        <source>Where the blocks are computed. Empty, the default: in this process. local:N: N worker processes started on this machine for the run. An address such as tcp://10.0.0.5:8786: the workers of a running Dask cluster, which must read the inputs at the same paths and have HyperFuse, PyTorch and dask[distributed] installed. The model, the responses and the block size are prepared here and sent once to every worker; this process writes the result, which equals the in-process one. Needs dask[distributed] (the message says how to install it). docs/scale-out.md.</source>
        <translation>Où les blocs sont calculés. Vide, la valeur par défaut : dans ce processus. local:N : N processus de calcul (workers) lancés sur cette machine pour l'exécution. Une adresse comme tcp://10.0.0.5:8786 : les workers d'une grappe Dask en service, qui doivent lire les entrées aux mêmes chemins et disposer de HyperFuse, de PyTorch et de dask[distributed]. Le modèle, les réponses et la taille des blocs sont préparés ici et envoyés une seule fois à chaque worker ; ce processus écrit le résultat, identique à celui obtenu dans le processus. Nécessite dask[distributed] (le message indique comment l'installer). docs/scale-out.md.</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="51"/>
        <source>Output compression</source>
        <translation>Compression de la sortie</translation>
    </message>
    <message>
        <location filename="../algorithms/parameters.py" line="104"/>
        <source>How the result&apos;s GeoTIFF is compressed, losslessly. zstd, the default, encodes about twice as fast as deflate for files of the same size, and any GDAL-based software reads it (QGIS 3.4 and later); deflate is read by almost every GeoTIFF reader; none writes fastest and largest.</source>
        <translation>Comment le GeoTIFF du résultat est compressé, sans perte. zstd, la valeur par défaut, encode environ deux fois plus vite que deflate pour des fichiers de même taille, et tout logiciel fondé sur GDAL le lit (QGIS 3.4 et suivants) ; deflate est lu par presque tous les lecteurs GeoTIFF ; none écrit le plus vite et le plus gros.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="63"/>
        <source>It processes the whole image at once up to {pixels:,} HR pixels (about {side} × {side}); a larger common area is fused in overlapping blocks, each by the paper's method, so rasters of any size can be fused.</source>
        <translation>La méthode traite toute l'image d'un coup jusqu'à {pixels:,} pixels HR (environ {side} × {side}) ; une zone commune plus grande est fusionnée en blocs qui se chevauchent, chacun par la méthode de l'article, si bien que des rasters de toute taille peuvent être fusionnés.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="107"/>
        <source>Up to {pixels:,} HR pixels the method sees the whole image, and this is the side of the blocks in which the result is written. On a larger common area it is the side of the blocks fused one by one, each with an overlap of {overlap} LR pixels on every side (0: sized from the available memory and kept within that limit); the result then depends on it.</source>
        <translation>Jusqu'à {pixels:,} pixels HR, la méthode voit toute l'image et ce paramètre est le côté des blocs dans lesquels le résultat est écrit. Sur une zone commune plus grande, c'est le côté des blocs fusionnés un à un, chacun avec un chevauchement de {overlap} pixels LR de chaque côté (0 : dimensionnés d'après la mémoire disponible et dans cette limite) ; le résultat en dépend alors.</translation>
    </message>
    <message>
        <location filename="../algorithms/classical.py" line="114"/>
        <source>{scheduler} Up to {pixels:,} HR pixels the method computes the whole image in this process whatever is set here.</source>
        <translation>{scheduler} Jusqu'à {pixels:,} pixels HR, la méthode calcule toute l'image dans ce processus, quelle que soit la valeur choisie ici.</translation>
    </message>
    <message>
        <location filename="../algorithms/base.py" line="318"/>
        <source>Incorrect parameter value for {name}</source>
        <translation>Valeur de paramètre incorrecte pour {name}</translation>
    </message>
</context>
</TS>
