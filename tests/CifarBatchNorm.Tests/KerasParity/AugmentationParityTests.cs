using CifarBatchNorm.Data;
using CifarBatchNorm.Experiments;
using CifarBatchNorm.Layers;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.KerasParity;

/// <summary>RandomFlip, RandomTranslation and RandomCrop: Keras's numeric cases, inference identity, seeding.</summary>
public sealed class AugmentationParityTests
{
    private static T Built<T>(T layer, int height, int width, int channels = 1, bool training = true) where T : Layer
    {
        layer.Build(new LayerShape(height, width, channels));
        layer.train(training);
        return layer;
    }

    /// <summary>A (1, 1, H, W) image holding 0, 1, 2, ... in row-major order, as Keras's tests build it with np.arange.</summary>
    private static Tensor Arange(int height, int width) => arange(height * width, ScalarType.Float32).view(1, 1, height, width);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static float[] Values(Tensor t) => t.to(ScalarType.Float32).contiguous().data<float>().ToArray();

    // keras-team/keras keras/src/layers/preprocessing/image_preprocessing/random_translation_test.py::RandomTranslationTest
    // test_random_translation_{up,down,left}_numeric_{reflect,constant} and test_random_translation_asymmetric_size_numeric_reflect
    // (channels_first), the expected images copied from there.
    public static TheoryData<string, int, int, double, double, FillMode, float[]> KerasTranslations => new()
    {
        { "up_numeric_reflect", 5, 5, -0.2, 0.0, FillMode.Reflect,
            [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 20, 21, 22, 23, 24] },
        { "up_numeric_constant", 5, 5, -0.2, 0.0, FillMode.Constant,
            [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 0, 0, 0, 0, 0] },
        { "down_numeric_reflect", 5, 5, 0.2, 0.0, FillMode.Reflect,
            [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19] },
        { "down_numeric_constant", 5, 5, 0.2, 0.0, FillMode.Constant,
            [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19] },
        { "left_numeric_reflect", 5, 5, 0.0, -0.2, FillMode.Reflect,
            [1, 2, 3, 4, 4, 6, 7, 8, 9, 9, 11, 12, 13, 14, 14, 16, 17, 18, 19, 19, 21, 22, 23, 24, 24] },
        { "left_numeric_constant", 5, 5, 0.0, -0.2, FillMode.Constant,
            [1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 0, 16, 17, 18, 19, 0, 21, 22, 23, 24, 0] },
        { "asymmetric_size_numeric_reflect", 8, 2, 0.5, 0.0, FillMode.Reflect,
            [6, 7, 4, 5, 2, 3, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7] },
    };

    [Theory]
    [MemberData(nameof(KerasTranslations))]
    public void Random_translation_matches_kerass_numeric_cases(string kerasCase, int height, int width, double heightShift, double widthShift,
        FillMode fillMode, float[] expected)
    {
        using var scope = NewDisposeScope();
        using var layer = Built(new RandomTranslation((heightShift, heightShift), (widthShift, widthShift), fillMode), height, width);

        var output = layer.call(Arange(height, width));

        Assert.True(expected.SequenceEqual(Values(output)), $"{kerasCase}: got [{string.Join(", ", Values(output))}]");
    }

    [Fact]
    public void Random_translation_interpolates_a_half_pixel_shift_bilinearly()
    {
        // Hand-computed: output(x) = input(x - 0.5); x = 0 reads -0.5, whose two taps (-1 and 0) both reflect to pixel 0.
        using var scope = NewDisposeScope();
        using var layer = Built(new RandomTranslation((0.0, 0.0), (0.1, 0.1)), 1, 5);

        var output = Values(layer.call(Arange(1, 5)));

        Assert.Equal([0f, 0.5f, 1.5f, 2.5f, 3.5f], output, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Theory]
    [InlineData(-1.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Random_translation_rejects_a_factor_outside_minus_one_to_one(double factor)
    {
        // keras-team/keras .../random_translation_test.py::RandomTranslationTest::test_random_translation_with_bad_factor (exceed_range_*)
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RandomTranslation(factor, 0.0));
        Assert.Equal("heightFactor", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomTranslation((factor, 0.0), (0.0, 0.0)));
    }

    [Fact]
    public void Random_flip_horizontal_flips_kerass_example_when_the_draw_says_so()
    {
        // keras-team/keras .../random_flip_test.py::RandomFlipTest::test_random_flip_horizontal mocks the draw to 0.1
        // (<= 0.5: flip). Here a seed whose first draw is <= 0.5 does the same. Keras's (1, 2, 3) channels-last image
        // [[[2, 3, 4], [5, 6, 7]]] is (1, 3, 1, 2) channels-first.
        int seed = Enumerable.Range(0, 100).First(s => FirstDraw(s) <= 0.5f);
        using var scope = NewDisposeScope();
        using var layer = Built(new RandomFlip(FlipMode.Horizontal, seed), 1, 2, 3);
        var image = tensor(new float[] { 2, 5, 3, 6, 4, 7 }).view(1, 3, 1, 2);

        var output = layer.call(image);

        Assert.Equal([5f, 2f, 6f, 3f, 7f, 4f], Values(output));
    }

    [Fact]
    public void Random_flip_reverses_the_columns_of_exactly_the_images_whose_draw_is_at_most_one_half()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var images = rand(64, 3, 4, 5);
        var draws = Values(rand(64));
        manual_seed(11);
        _ = rand(64, 3, 4, 5);
        using var layer = Built(new RandomFlip(FlipMode.Horizontal), 4, 5, 3);

        var output = layer.call(images);

        int flipped = 0;
        for (int i = 0; i < 64; i++)
        {
            bool flip = draws[i] <= 0.5f;
            flipped += flip ? 1 : 0;
            var expected = flip ? images[i].flip(2) : images[i];
            Assert.True(Same(output[i], expected), $"image {i}, draw {draws[i]}: expected {(flip ? "flipped" : "unchanged")}");
        }

        Assert.InRange(flipped, 1, 63);
    }

    [Fact]
    public void Random_flip_in_both_axes_uses_one_draw_for_both()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var images = rand(32, 1, 3, 3);
        using var layer = Built(new RandomFlip(FlipMode.HorizontalAndVertical), 3, 3);

        var output = layer.call(images);

        for (int i = 0; i < 32; i++)
        {
            bool both = Same(output[i], images[i].flip(1, 2));
            bool none = Same(output[i], images[i]);
            Assert.True(both ^ none, $"image {i} was flipped along one axis only");
        }
    }

    [Fact]
    public void Random_crop_at_inference_keeps_an_input_of_the_target_size()
    {
        // keras-team/keras .../random_crop_test.py::RandomCropTest::test_random_crop_full (channels_first)
        using var scope = NewDisposeScope();
        manual_seed(1337);
        var input = rand(12, 3, 8, 16);
        using var layer = Built(new RandomCrop(8, 16), 8, 16, 3, training: false);

        Assert.True(Same(layer.call(input), input));
    }

    [Theory]
    [InlineData(8, 8, 8, 8)]     // keras-team/keras .../random_crop_test.py::test_random_crop_partial
    [InlineData(10, 8, 10, 8)]   // ::test_predicting_with_longer_height
    [InlineData(8, 18, 8, 18)]   // ::test_predicting_with_longer_width
    public void Random_crop_outputs_the_target_shape_in_training_and_the_input_at_inference(int height, int width, int expectedHeight, int expectedWidth)
    {
        using var scope = NewDisposeScope();
        var input = rand(12, 3, 8, 16);
        using var layer = Built(new RandomCrop(height, width), 8, 16, 3);

        Assert.Equal("(None, " + expectedHeight + ", " + expectedWidth + ", 3)", layer.OutputShape.ToString());
        Assert.Equal([12L, 3, expectedHeight, expectedWidth], layer.call(input).shape);
        layer.eval();
        Assert.True(Same(layer.call(input), input));                       // random_crop.py transform_images: `if training:`
    }

    [Fact]
    public void Random_crop_in_training_takes_one_window_of_the_padded_batch()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var input = rand(6, 3, 8, 8) + 1;                                   // no zeros inside, so padding shows
        using var layer = Built(new RandomCrop(8, 8, padding: 2), 8, 8, 3);
        var padded = nn.functional.pad(input, [2, 2, 2, 2]);

        var windows = new HashSet<(int, int)>();
        for (int trial = 0; trial < 20; trial++)
        {
            var output = layer.call(input);
            var match = (from top in Enumerable.Range(0, 5)
                         from left in Enumerable.Range(0, 5)
                         where Same(output, padded[.., .., TensorIndex.Slice(top, top + 8), TensorIndex.Slice(left, left + 8)])
                         select (top, left)).ToList();
            Assert.Single(match);
            windows.Add(match[0]);
        }

        Assert.True(windows.Count > 1, "20 crops all took the same window");
    }

    [Fact]
    public void Every_augmentation_layer_is_the_identity_at_inference()
    {
        // keras-team/keras .../random_translation_test.py::RandomTranslationTest::test_random_translation_with_inference_mode
        using var scope = NewDisposeScope();
        var input = rand(4, 3, 32, 32);
        Layer[] layers = [new RandomFlip(), new RandomTranslation(0.2, 0.1), new RandomCrop(32, 32, padding: 4)];
        foreach (var layer in layers)
        {
            using var _ = Built(layer, 32, 32, 3, training: false);
            Assert.True(Same(layer.call(input), input), $"{layer.KerasType} changed its input at inference");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_augmented_batches()
    {
        using var scope = NewDisposeScope();
        var input = rand(16, 3, 32, 32);
        float[] Run()
        {
            manual_seed(42);
            using var flip = Built(new RandomFlip(FlipMode.Horizontal), 32, 32, 3);
            using var translate = Built(new RandomTranslation(0.1, 0.1), 32, 32, 3);
            using var crop = Built(new RandomCrop(32, 32, padding: 4), 32, 32, 3);
            return Values(crop.call(translate.call(flip.call(input))));
        }

        var first = Run();
        var second = Run();

        Assert.Equal(first, second);
        Assert.False(first.SequenceEqual(Values(input)), "the augmentation changed nothing");
    }

    [Fact]
    public void The_summary_shows_the_augmentation_layers_first_with_no_parameters()
    {
        using var model = ModelPresets.Notebook(ImageShape.Cifar10, augment: [Augmentation.Flip, Augmentation.Translate, Augmentation.Crop]);
        using var writer = new StringWriter();
        model.Summary(writer);
        string summary = writer.ToString();

        Assert.Equal(["random_flip", "random_translation", "random_crop", "conv2d"], model.Layers.Take(4).Select(l => l.Name));
        Assert.Matches(@"random_flip \(RandomFlip\)\s+│ \(None, 32, 32, 3\)\s+│\s+0 │", summary);
        Assert.Matches(@"random_crop \(RandomCrop\)\s+│ \(None, 32, 32, 3\)\s+│\s+0 │", summary);
        Assert.Contains("Total params: 270,482", summary, StringComparison.Ordinal);
    }

    private static float FirstDraw(int seed)
    {
        using var generator = new Generator((ulong)seed);
        using var draw = rand([1], ScalarType.Float32, generator: generator);
        return draw.item<float>();
    }
}
