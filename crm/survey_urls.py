from django.urls import path

from . import survey_views

app_name = "surveys"
urlpatterns = [
    path("survey/<str:token>/", survey_views.SurveyAnswerView.as_view(), name="answer"),
    path("surveys/<int:pk>/ask/", survey_views.SurveyAskView.as_view(), name="ask"),
    path("surveys/", survey_views.SurveyResultsView.as_view(), name="results"),
]
