namespace CifarBatchNorm.Layers;

/// <summary>Output sizes and paddings of convolutions and poolings, as TensorFlow computes them.</summary>
internal static class SamePadding
{
    /// <summary>
    /// The output size along one axis and the padding before and after it. <c>valid</c>: floor((size - window) / stride)
    /// + 1, no padding. <c>same</c>: ceil(size / stride), with total padding max((out - 1) * stride + window - size, 0)
    /// split as TensorFlow splits it: half (rounded down) before, the rest after.
    /// </summary>
    public static (int Output, int Before, int After) Output(int size, int window, int stride, ConvPadding padding)
    {
        if (padding == ConvPadding.Valid)
        {
            return (size < window ? 0 : ((size - window) / stride) + 1, 0, 0);
        }

        int output = (size + stride - 1) / stride;
        int total = Math.Max(((output - 1) * stride) + window - size, 0);
        return (output, total / 2, total - (total / 2));
    }
}
