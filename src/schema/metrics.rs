//! Metric types and the data point tables: which case of the `Metric.data` oneof a metric has
//! (`metric_types`, ollyscale's own ids, not an OTLP enum), and where each type's data points and their
//! attributes are stored.

use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use super::attributes::{self, AttrLevel};
use super::tables::{self, PartitionedTable};

/// A metric's type, `metric_types.id`; also `otel_metrics_exemplars.data_point_kind` (of the table's first type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `Metric.gauge`.
    Gauge = 1,
    /// `Metric.sum`.
    Sum = 2,
    /// `Metric.histogram`.
    Histogram = 3,
    /// `Metric.exponential_histogram`.
    ExponentialHistogram = 4,
    /// `Metric.summary`.
    Summary = 5,
}

impl MetricType {
    /// Every type, by id.
    pub const ALL: [MetricType; 5] = [
        MetricType::Gauge,
        MetricType::Sum,
        MetricType::Histogram,
        MetricType::ExponentialHistogram,
        MetricType::Summary,
    ];

    /// The stored id.
    pub const fn id(self) -> i16 {
        self as i16
    }

    /// The type of a stored id.
    pub fn from_id(id: i16) -> Option<MetricType> {
        MetricType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The `Metric.data` oneof field name, also the API's name (`gauge`, `exponential_histogram`).
    pub const fn name(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Sum => "sum",
            MetricType::Histogram => "histogram",
            MetricType::ExponentialHistogram => "exponential_histogram",
            MetricType::Summary => "summary",
        }
    }

    /// The type of a [`MetricType::name`].
    pub fn from_name(name: &str) -> Option<MetricType> {
        MetricType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The type of a metric's data.
    pub fn of(data: &Data) -> MetricType {
        match data {
            Data::Gauge(_) => MetricType::Gauge,
            Data::Sum(_) => MetricType::Sum,
            Data::Histogram(_) => MetricType::Histogram,
            Data::ExponentialHistogram(_) => MetricType::ExponentialHistogram,
            Data::Summary(_) => MetricType::Summary,
        }
    }

    /// Where the type's data points are stored.
    pub fn points(self) -> &'static DataPoints {
        let table = match self {
            MetricType::Gauge | MetricType::Sum => 0,
            MetricType::Histogram => 1,
            MetricType::ExponentialHistogram => 2,
            MetricType::Summary => 3,
        };
        &DATA_POINTS[table]
    }
}

/// A data point table, the metric types whose points it holds, and the level of the points' attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPoints {
    /// The fact table.
    pub table: PartitionedTable,
    /// The attribute level of its points.
    pub attributes: AttrLevel,
    /// The metric types stored in it; the first one's id is the exemplars' `data_point_kind`.
    pub types: &'static [MetricType],
}

/// Every data point table.
pub const DATA_POINTS: [DataPoints; 4] = [
    DataPoints {
        table: tables::NUMBER_POINTS,
        attributes: attributes::NUMBER_DP,
        types: &[MetricType::Gauge, MetricType::Sum],
    },
    DataPoints {
        table: tables::HISTOGRAM_POINTS,
        attributes: attributes::HISTOGRAM_DP,
        types: &[MetricType::Histogram],
    },
    DataPoints {
        table: tables::EXP_HISTOGRAM_POINTS,
        attributes: attributes::EXP_HISTOGRAM_DP,
        types: &[MetricType::ExponentialHistogram],
    },
    DataPoints { table: tables::SUMMARY_POINTS, attributes: attributes::SUMMARY_DP, types: &[MetricType::Summary] },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_stored_in_the_table_that_lists_it() {
        for t in MetricType::ALL {
            assert!(t.points().types.contains(&t), "{t:?}");
            assert_eq!(MetricType::from_id(t.id()), Some(t));
            assert_eq!(MetricType::from_name(t.name()), Some(t));
        }
        assert_eq!(MetricType::from_id(0), None);
    }
}
