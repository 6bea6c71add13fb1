using CifarBatchNorm.Data;
using CifarBatchNorm.Layers;
using CifarBatchNorm.Training;

namespace CifarBatchNorm.Experiments;

/// <summary>Named model presets.</summary>
public static class ModelPresets
{
    /// <summary>The largest image side the notebook's model is built for (its Dense layer grows with the image area).</summary>
    public const int MaxImageSide = ImageShape.MaxModelSide;

    /// <summary>The most channels an input image may have (gray, RGB, RGBA).</summary>
    public const int MaxChannels = ImageShape.MaxModelChannels;

    /// <summary>
    /// Throws unless the notebook's model can be built and trained for <paramref name="input"/> in a machine's memory:
    /// sides of 1 to <see cref="MaxImageSide"/> pixels and 1 to <see cref="MaxChannels"/> channels. At 512x512 the
    /// Dense layer after the two poolings already holds 67 million weights (268 MB, three times that with Adam).
    /// </summary>
    /// <exception cref="ArgumentException">The shape is outside those bounds; <c>ParamName</c> is <c>ImageShape</c>.</exception>
    public static void CheckInputShape(ImageShape input)
    {
        if (!input.IsWithinModelBounds)
        {
            long dense = (long)Math.Max(1, input.Height / 4) * Math.Max(1, input.Width / 4) * 16 * 256;
            throw new ArgumentException(
                $"ImageShape {input} is outside what the notebook's model can train here: sides of 1 to {MaxImageSide} pixels and 1 to {MaxChannels} channels (its Dense layer would hold {dense:N0} weights, {dense * 4 / 1e9:0.#} GB). Resize the images.",
                nameof(ImageShape));
        }
    }

    /// <summary>
    /// <see cref="Notebook(ImageShape, int, NormalizationVariant, double, IEnumerable{Augmentation}?, RenormClipping?)"/> set up for
    /// <paramref name="session"/>: its execution policy (device, layouts, collection cadence) is applied, so a runner
    /// that builds its model here cannot forget it.
    /// </summary>
    /// <param name="session">The session the model runs in.</param>
    /// <param name="input">Image shape: 32x32x3 for CIFAR-10, 28x28x1 for Fashion-MNIST.</param>
    /// <param name="classes">Output classes. The default value is 10.</param>
    /// <param name="variant">Normalization placement. The default value is <see cref="NormalizationVariant.Bn"/> (the notebook).</param>
    /// <param name="bnMomentum">Keras momentum of every BatchNormalization. The default value is 0.99.</param>
    /// <param name="augment">Augmentation layers to put at the model's start. The default value is none (the notebook).</param>
    /// <param name="renormClipping">The renorm variant's clipping schedule. The default value is <see cref="NotebookRenormClipping"/>.</param>
    public static Sequential Notebook(RunSession session, ImageShape input, int classes = 10, NormalizationVariant variant = NormalizationVariant.Bn, double bnMomentum = 0.99,
        IEnumerable<Augmentation>? augment = null, RenormClipping? renormClipping = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        var model = Notebook(input, classes, variant, bnMomentum, augment, renormClipping);
        try
        {
            return model.Apply(session.Policy);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The notebook's model: Conv(8)-BN-Conv(8)-BN-Pool-Conv(16)-BN-Conv(16)-BN-Pool-Flatten-Dense(256)-BN-Dense(10, softmax),
    /// 3x3 "same" convolutions, ReLU inside each Conv/Dense (so ReLU comes before BN). For 32x32x3 inputs it has
    /// 270,482 parameters, 608 of them non-trainable, exactly as Keras reports. It runs on the CPU policy until <see cref="Sequential.Apply"/>; runners use
    /// <see cref="Notebook(RunSession, ImageShape, int, NormalizationVariant, double, IEnumerable{Augmentation}?, RenormClipping?)"/>, which applies their session's.
    /// </summary>
    /// <param name="input">Image shape: 32x32x3 for CIFAR-10, 28x28x1 for Fashion-MNIST.</param>
    /// <param name="classes">Output classes. The default value is 10.</param>
    /// <param name="variant">Normalization placement. The default value is <see cref="NormalizationVariant.Bn"/> (the notebook).</param>
    /// <param name="bnMomentum">Keras momentum of every BatchNormalization. The default value is 0.99.</param>
    /// <param name="augment">
    /// Augmentation layers to put at the model's start, in this order (each acts only in training; see
    /// <see cref="AugmentationLayer"/>). The default value is none (the notebook).
    /// </param>
    /// <param name="renormClipping">
    /// The clipping schedule of the <see cref="NormalizationVariant.Renorm"/> variant. The default value is
    /// <see cref="NotebookRenormClipping"/>.
    /// </param>
    public static Sequential Notebook(ImageShape input, int classes = 10, NormalizationVariant variant = NormalizationVariant.Bn, double bnMomentum = 0.99,
        IEnumerable<Augmentation>? augment = null, RenormClipping? renormClipping = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        CheckInputShape(input);
        var model = new Sequential(input);
        foreach (var augmentation in (augment ?? []).Distinct())
        {
            model.Add(AugmentationLayer(augmentation, input));
        }

        void Block(Func<ActivationFunction, Layer> linear)
        {
            switch (variant)
            {
                case NormalizationVariant.Bn:
                    model.Add(linear(ActivationFunction.Relu));
                    model.Add(new BatchNormalization(momentum: bnMomentum));
                    break;
                case NormalizationVariant.BnMomentum09:
                    model.Add(linear(ActivationFunction.Relu));
                    model.Add(new BatchNormalization(momentum: 0.9));
                    break;
                case NormalizationVariant.None:
                    model.Add(linear(ActivationFunction.Relu));
                    break;
                case NormalizationVariant.Renorm:
                    model.Add(linear(ActivationFunction.Relu));
                    model.Add(new BatchRenormalization(momentum: bnMomentum, clipping: renormClipping ?? NotebookRenormClipping));
                    break;
                case NormalizationVariant.BnBeforeRelu:
                    model.Add(linear(ActivationFunction.Linear));
                    model.Add(new BatchNormalization(momentum: bnMomentum));
                    model.Add(new Activation(ActivationFunction.Relu));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown normalization variant.");
            }
        }

        Block(a => new Conv2D(8, 3, padding: ConvPadding.Same, activation: a));
        Block(a => new Conv2D(8, 3, padding: ConvPadding.Same, activation: a));
        model.Add(new MaxPooling2D(2));
        Block(a => new Conv2D(16, 3, padding: ConvPadding.Same, activation: a));
        Block(a => new Conv2D(16, 3, padding: ConvPadding.Same, activation: a));
        model.Add(new MaxPooling2D(2));
        model.Add(new Flatten());
        Block(a => new Dense(256, activation: a));
        model.Add(new Dense(classes, activation: ActivationFunction.Softmax));
        return model;
    }

    /// <summary>
    /// The renorm paper's clipping schedule scaled to the notebook's length. The paper relaxed rmax (1 to 3) and
    /// dmax (0 to 5) over 40k and 25k of about 160k steps after a 5k-step warm-up; the notebook trains about
    /// 2,000 steps (10 epochs of batch 256), so: warm-up 100 steps, dmax by 500, rmax by 800.
    /// </summary>
    public static RenormClipping NotebookRenormClipping { get; } =
        RenormClipping.Schedule(warmupSteps: 100, rmaxEndStep: 800, dmaxEndStep: 500, rmax: 3, dmax: 5);

    /// <summary>
    /// The renorm paper's clipping schedule (Ioffe 2017, section 4: r_max 1 and d_max 0 for the first 5,000 steps,
    /// then relaxed linearly to r_max 3 by step 40,000 and d_max 5 by step 25,000) for a run of
    /// <paramref name="totalSteps"/> optimizer steps: the paper's own steps when the run is long enough to reach the
    /// end of the relaxation (40,000 steps or more), else the same breakpoints scaled by totalSteps / 80,000, so that
    /// the clipping is fully relaxed halfway through the run and the second half trains with the paper's final bounds.
    /// (At its own length the paper's schedule keeps r = 1, d = 0 for the first 5,000 steps, which is plain BN: a
    /// shorter run would never see renorm act.)
    /// </summary>
    public static RenormSchedule RenormScheduleFor(int totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        if (totalSteps >= 40_000)
        {
            return new RenormSchedule("paper", 5_000, 25_000, 40_000, 3, 5);
        }

        int Scaled(int step) => Math.Max(1, (int)Math.Round(step * (totalSteps / 80_000.0)));
        return new RenormSchedule("scaled", Scaled(5_000), Scaled(25_000), Scaled(40_000), 3, 5);
    }

    /// <summary>Pixels of zero padding around the image before <see cref="Augmentation.Crop"/> crops it back to its size.</summary>
    public const int CropPadding = 4;

    /// <summary>Largest shift of <see cref="Augmentation.Translate"/>, as a fraction of the height and of the width.</summary>
    public const double TranslateFactor = 0.1;

    /// <summary>The layer of one augmentation for images of <paramref name="input"/>.</summary>
    public static Layer AugmentationLayer(Augmentation augmentation, ImageShape input) => augmentation switch
    {
        Augmentation.Flip => new RandomFlip(FlipMode.Horizontal),
        Augmentation.Translate => new RandomTranslation(TranslateFactor, TranslateFactor),
        Augmentation.Crop => new RandomCrop(input.Height, input.Width, padding: CropPadding),
        _ => throw new ArgumentOutOfRangeException(nameof(augmentation), augmentation, "Unknown augmentation."),
    };

    /// <summary>Parses a comma-separated list of augmentations: <c>flip</c>, <c>translate</c>, <c>crop</c> (an empty string or <c>none</c> is none).</summary>
    /// <exception cref="ArgumentException">A name is unknown; <c>ParamName</c> is <c>TrainConfig.Augment</c>.</exception>
    public static Augmentation[] ParseAugmentations(string? text)
    {
        var names = (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names is ["none"])
        {
            return [];
        }

        return names.Select(name => name.ToLowerInvariant() switch
        {
            "flip" => Augmentation.Flip,
            "translate" => Augmentation.Translate,
            "crop" => Augmentation.Crop,
            _ => throw ConfigCheck.Invalid($"{nameof(TrainConfig)}.{nameof(TrainConfig.Augment)}",
                $"has an unknown augmentation '{name}': use flip, translate and crop, comma-separated."),
        }).Distinct().ToArray();
    }

    /// <summary>The command-line name of an augmentation.</summary>
    public static string AugmentationName(Augmentation augmentation) => augmentation switch
    {
        Augmentation.Flip => "flip",
        Augmentation.Translate => "translate",
        Augmentation.Crop => "crop",
        _ => throw new ArgumentOutOfRangeException(nameof(augmentation), augmentation, "Unknown augmentation."),
    };

    /// <summary>Parses a variant name: <c>bn</c>, <c>none</c>, <c>bn-before-relu</c>, <c>renorm</c>, <c>bn-m09</c>.</summary>
    public static NormalizationVariant ParseVariant(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "bn" => NormalizationVariant.Bn,
        "none" => NormalizationVariant.None,
        "bn-before-relu" => NormalizationVariant.BnBeforeRelu,
        "renorm" => NormalizationVariant.Renorm,
        "bn-m09" => NormalizationVariant.BnMomentum09,
        _ => throw new ArgumentException($"Unknown variant '{name}': use bn, none, bn-before-relu, renorm or bn-m09."),
    };

    /// <summary>The command-line name of a variant.</summary>
    public static string VariantName(NormalizationVariant variant) => variant switch
    {
        NormalizationVariant.Bn => "bn",
        NormalizationVariant.None => "none",
        NormalizationVariant.BnBeforeRelu => "bn-before-relu",
        NormalizationVariant.Renorm => "renorm",
        NormalizationVariant.BnMomentum09 => "bn-m09",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown normalization variant."),
    };
}
