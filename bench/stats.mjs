// The benchmark's one summary statistic: the middle value (the upper middle of an even count).
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
